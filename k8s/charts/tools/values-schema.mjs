#!/usr/bin/env node
// Generates values.schema.json for every AuditFlow chart from its values.yaml.
//
// values.yaml is the single source of truth: every key carries a `## @param <path>` line,
// the default's type becomes the schema type, and objects that are not themselves a
// @param are closed (additionalProperties: false) so a misspelt key fails `helm lint`,
// `helm template` and `helm install`. The rules below add what a default cannot express
// (enums, ranges, nullable values, pinned tags).
//
//   node k8s/charts/tools/values-schema.mjs          write the schemas
//   node k8s/charts/tools/values-schema.mjs --check  exit 1 when a committed schema is stale
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { writeOrCheck } from '../../../scripts/lib/generated-file.mjs';
import * as k8sModels from '@kubernetes/client-node';

const chartsRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const umbrella = join(chartsRoot, 'auditflow-platform');

const port = { type: 'integer', minimum: 1, maximum: 65535 };
const optionalPort = { type: 'integer', minimum: 0, maximum: 65535 };
const quantity = { type: ['string', 'number'], pattern: '^[0-9.]+([EPTGMK]i?|[mkMGTPE])?$' };
const resources = {
  type: 'object',
  additionalProperties: false,
  properties: {
    requests: { type: 'object', additionalProperties: false, properties: { cpu: quantity, memory: quantity } },
    limits: { type: 'object', additionalProperties: false, properties: { cpu: quantity, memory: quantity } },
  },
};
const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
const objectList = { type: 'array', items: { type: 'object' } };

// JSON Schema of a Kubernetes API type, closed at every level, derived from the field lists
// of @kubernetes/client-node's models (the same source tests/k8s validates rendered objects
// with), so a typo inside securityContext or affinity fails at lint/template/install time.
function k8sSchema(typeName, seen = new Set()) {
  const array = /^Array<(.+)>$/.exec(typeName);
  if (array) return { type: 'array', items: k8sSchema(array[1], seen) };
  if (typeName === 'string') return { type: 'string' };
  if (typeName === 'number') return { type: 'integer' };
  if (typeName === 'boolean') return { type: 'boolean' };
  if (typeName.startsWith('{ [key: string]: ')) return { type: 'object', additionalProperties: k8sSchema(typeName.slice(17, -2), seen) };
  const model = k8sModels[typeName];
  if (!model?.attributeTypeMap || seen.has(typeName)) return {};
  const next = new Set(seen).add(typeName);
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(model.attributeTypeMap.map((a) => [a.baseName, k8sSchema(a.type, next)])),
  };
}

// The globals every chart receives from the umbrella. One closed definition for all charts:
// Helm hands each subchart the whole `global` map, so each schema must know every key.
const serverRef = (what, secretKeys, defaultPort) => ({
  type: 'object',
  additionalProperties: false,
  description: `${what} outside the release (used when its subchart is disabled)`,
  properties: {
    host: { type: 'string', description: `${what} host name or address` },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: `${what} port` },
    existingSecret: { type: 'string', description: `Secret holding ${secretKeys}` },
  },
});
export const GLOBAL = {
  type: 'object',
  additionalProperties: false,
  properties: {
    environment: { type: 'string', minLength: 1, description: "Environment name, copied into every service's ENVIRONMENT and into alert metadata" },
    imageRegistry: { type: 'string', description: 'Registry of every image (AuditFlow and third-party), e.g. a mirror; empty keeps each image.registry' },
    imageRepositoryPrefix: { type: 'string', description: 'Organisation of the AuditFlow images: <prefix>/<service>; empty keeps each image.repository' },
    externalDatabase: serverRef('PostgreSQL', 'the notification-service password under `password`'),
    externalRabbitmq: serverRef('RabbitMQ', 'one key per service user: `<service>-password`'),
    externalRedis: serverRef('Redis', 'the password under `password`'),
    serviceMonitor: {
      type: 'object',
      additionalProperties: false,
      description: 'Settings of every ServiceMonitor the charts render',
      properties: {
        labels: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description: 'Labels on every ServiceMonitor, for a Prometheus that selects on them (kube-prometheus-stack: `release: <its release name>`)',
        },
      },
    },
  },
};

// Variables each application chart may set under `env`: those docs/configuration.md
// documents for the service (its own section, the shared one and its servers').
function documentedEnv(chartName) {
  const text = readFileSync(join(chartsRoot, '..', '..', 'docs', 'configuration.md'), 'utf8');
  const sections = new Map();
  let heading = '';
  for (const line of text.split('\n')) {
    const h = /^#{2,3} (.+)$/.exec(line);
    if (h) heading = h[1].trim().replace(/ \(.*$/, '');
    const row = /^\| `([A-Z][A-Z0-9_]*)` \|/.exec(line);
    if (row) sections.set(heading, [...(sections.get(heading) ?? []), row[1]]);
  }
  const pick = (title) => sections.get(title) ?? [];
  const names = [...pick('Shared by every service'), ...pick(chartName)];
  if (chartName !== 'event-audit-dashboard') names.push(...pick('RabbitMQ'));
  if (chartName === 'audit-log-analysis') names.push(...pick('Redis'));
  if (chartName === 'notification-service') names.push(...pick('PostgreSQL'));
  return [...new Set(names)].sort();
}

// [path pattern, schema fragment]; `*` matches one path segment. The first match wins.
const rules = [
  // The umbrella's lab network (docs/network.md).
  ['network.dns.records', {
    type: 'array',
    items: {
      type: 'object',
      required: ['name', 'type', 'value'],
      additionalProperties: false,
      properties: { name: { type: 'string', pattern: '^(@|[a-z0-9*]([a-z0-9.-]*[a-z0-9])?)$' }, type: { enum: ['A', 'AAAA', 'CNAME', 'TXT'] }, value: { type: 'string', minLength: 1 } },
    },
  }],
  ['network.metallb.addresses', { type: 'array', minItems: 1, items: { type: 'string', pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3}|-[0-9a-fA-F:.]+)$' } }],
  ['network.*.*Address', { type: 'string', pattern: '^([0-9a-fA-F:.]+)?$' }],
  ['network.*.*Addresses', { type: 'array', items: { type: 'string', pattern: '^[0-9a-fA-F:.]+$' } }],
  ['network.metallb.interfaces', { type: 'array', items: { type: 'string', minLength: 1 } }],
  ['network.labCA.commonName', { type: 'string', minLength: 1 }],
  ['network.*.*Name', { type: 'string', pattern: '^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$' }],
  ['network.domain', { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$' }],
  ['network.dns.ttl', { type: 'integer', minimum: 1 }],
  ['network.externalDns.tsigAlgorithm', { enum: ['hmac-sha256', 'hmac-sha512', 'hmac-sha1'] }],
  ['securityContext', k8sSchema('V1SecurityContext')],
  ['podSecurityContext', k8sSchema('V1PodSecurityContext')],
  ['**.securityContext', k8sSchema('V1SecurityContext')],
  ['affinity', k8sSchema('V1Affinity')],
  ['*.pullPolicy', { type: 'string', enum: ['Always', 'IfNotPresent', 'Never'] }],
  ['**.tag', { type: 'string', not: { const: 'latest' } }],
  ['**.digest', { type: 'string', pattern: '^(sha256:[a-f0-9]{64})?$' }],
  ['service.type', { type: 'string', enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }],
  ['service.nodePort', { type: ['integer', 'null'], minimum: 30000, maximum: 32767 }],
  ['service.metricsPort', optionalPort],
  ['containerPorts.metrics', optionalPort],
  ['containerPorts.http', port],
  ['**.port', port],
  ['service.managementPort', port],
  ['replicaCount', { type: 'integer', minimum: 0 }],
  ['revisionHistoryLimit', { type: 'integer', minimum: 0 }],
  ['terminationGracePeriodSeconds', { type: 'integer', minimum: 10 }],
  ['podDisruptionBudget.minAvailable', { type: ['integer', 'string', 'null'] }],
  ['podDisruptionBudget.maxUnavailable', { type: ['integer', 'string'] }],
  ['autoscaling.target*', { type: ['integer', 'null'], minimum: 1, maximum: 100 }],
  ['autoscaling.minReplicas', { type: 'integer', minimum: 1 }],
  ['autoscaling.maxReplicas', { type: 'integer', minimum: 1 }],
  ['*.queueType', { type: 'string', enum: ['quorum', 'classic'] }],
  ['topologySpread.whenUnsatisfiable', { type: 'string', enum: ['DoNotSchedule', 'ScheduleAnyway'] }],
  ['env', { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } }],
  ['**resources', resources],
  ['persistence.size', { type: 'string', pattern: '^[0-9]+(Mi|Gi|Ti)$' }],
  ['persistence.accessModes', { type: 'array', minItems: 1, items: { type: 'string', enum: ['ReadWriteOnce', 'ReadWriteOncePod', 'ReadWriteMany', 'ReadOnlyMany'] } }],
  ['podAnnotations', stringMap],
  ['podLabels', stringMap],
  ['nodeSelector', stringMap],
  ['**.annotations', stringMap],
  ['**.labels', stringMap],
  ['config', { type: 'object', additionalProperties: { type: ['string', 'number'] } }],
  ['imagePullSecrets', objectList],
  ['tolerations', objectList],
  ['extraEnv', objectList],
  ['networkPolicy.extraIngress', objectList],
  ['networkPolicy.extraEgress', objectList],
  ['networkPolicy.managementFrom', objectList],
  ['args', { type: 'array', items: { type: 'string' } }],
  ['**.mountPath', { type: 'string', pattern: '^/' }],
  ['**.path', { type: 'string', pattern: '^/' }],
  ['**.periodSeconds', { type: 'integer', minimum: 1 }],
  ['**.timeoutSeconds', { type: 'integer', minimum: 1 }],
  ['**.failureThreshold', { type: 'integer', minimum: 1 }],
];

// `*` matches within one path segment; a `**` segment matches any number of leading segments.
function globToRegExp(glob) {
  const segs = glob.split('.');
  const body = segs
    .map((seg, i) => {
      if (seg === '**') return '(?:[^.]+\\.)*';
      // Split on `**` first so the single-`*` rule cannot touch its expansion.
      const escaped = seg
        .split('**')
        .map((part) => part.replace(/[-/\\^$+?()|[\]{}]/g, '\\$&').replace(/\*/g, '[^.]*'))
        .join('(?:[^.]+\\.)*[^.]*');
      return escaped + (i < segs.length - 1 ? '\\.' : '');
    })
    .join('');
  return new RegExp(`^${body}$`);
}
const compiled = rules.map(([glob, schema]) => [globToRegExp(glob), schema]);

function ruleFor(path) {
  for (const [re, schema] of compiled) if (re.test(path)) return structuredClone(schema);
  return undefined;
}

function inferType(value, path) {
  if (value === null) throw new Error(`${path}: null default needs a rule in values-schema.mjs`);
  if (Array.isArray(value)) return { type: 'array' };
  if (typeof value === 'object') return { type: 'object' };
  if (typeof value === 'boolean') return { type: 'boolean' };
  if (typeof value === 'number') return { type: Number.isInteger(value) ? 'integer' : 'number' };
  return { type: 'string' };
}

function readParams(text) {
  const params = new Map();
  for (const line of text.split('\n')) {
    const m = /^\s*## @param (\S+) (.+)$/.exec(line);
    if (m) params.set(m[1], m[2].trim());
  }
  return params;
}

function get(obj, path) {
  return path.split('.').reduce((o, k) => (o && Object.hasOwn(o, k) ? o[k] : undefined), obj);
}

/** Paths a values file defines, stopping at documented keys (free-form maps stay whole). */
function leafPaths(obj, params, prefix = '') {
  const out = [];
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (params.has(path) || v === null || typeof v !== 'object' || Array.isArray(v) || Object.keys(v).length === 0) {
      out.push(path);
    } else {
      out.push(...leafPaths(v, params, path));
    }
  }
  return out;
}

export function buildSchema(chartDir, { openTopLevel = [] } = {}) {
  const text = readFileSync(join(chartDir, 'values.yaml'), 'utf8');
  const values = parse(text);
  const params = readParams(text);
  const problems = [];
  for (const path of leafPaths(values, params)) if (!params.has(path)) problems.push(`${path}: no @param line`);
  for (const path of params.keys()) if (!hasPath(values, path)) problems.push(`${path}: @param for a key that does not exist`);
  if (problems.length) throw new Error(`${chartDir}/values.yaml:\n  ${problems.join('\n  ')}`);

  const root = { $schema: 'http://json-schema.org/draft-07/schema#', title: `Values of the ${parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')).name} chart`, type: 'object', additionalProperties: false, properties: {} };
  for (const [path, description] of params) {
    const segs = path.split('.');
    let node = root;
    for (let i = 0; i < segs.length - 1; i++) {
      const partial = segs.slice(0, i + 1).join('.');
      node.properties ??= {};
      node.properties[segs[i]] ??= { type: 'object', additionalProperties: partial === 'global' || openTopLevel.includes(partial), properties: {} };
      node = node.properties[segs[i]];
    }
    const value = get(values, path);
    const schema = ruleFor(path) ?? inferType(value, path);
    schema.description = description;
    node.properties ??= {};
    node.properties[segs.at(-1)] = { ...schema, ...(node.properties[segs.at(-1)]?.properties ? { properties: node.properties[segs.at(-1)].properties } : {}) };
  }
  root.properties.global = structuredClone(GLOBAL);
  // Helm adds an (empty) values entry for every dependency, the library chart included.
  root.properties['auditflow-common'] = { type: 'object', description: 'Values of the auditflow-common library chart (it reads none)' };
  const name = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')).name;
  const env = root.properties.env;
  if (env?.type === 'object') {
    const names = documentedEnv(name);
    if (names.length === 0) throw new Error(`docs/configuration.md documents no variable for ${name}`);
    env.propertyNames = { enum: names, description: `a variable docs/configuration.md documents for ${name}` };
  }
  return root;
}

function hasPath(obj, path) {
  let o = obj;
  for (const k of path.split('.')) {
    if (o === null || typeof o !== 'object' || !Object.hasOwn(o, k)) return false;
    o = o[k];
  }
  return true;
}

export function chartDirs() {
  const subcharts = readdirSync(join(umbrella, 'charts'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(umbrella, 'charts', d.name, 'Chart.yaml')))
    .map((d) => join(umbrella, 'charts', d.name));
  return [umbrella, ...subcharts];
}

export function expectedSchemas() {
  const subchartNames = chartDirs().slice(1).map((d) => d.split('/').at(-1));
  return chartDirs().map((dir) => {
    // Subchart sections of the umbrella stay open: Helm validates them against the subchart's own schema.
    const schema = buildSchema(dir, { openTopLevel: dir === umbrella ? subchartNames : [] });
    return { file: join(dir, 'values.schema.json'), content: `${JSON.stringify(schema, null, 2)}\n` };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeOrCheck(
    expectedSchemas().map(({ file, content }) => ({ path: file, content })),
    { command: 'node k8s/charts/tools/values-schema.mjs' },
  );
}
