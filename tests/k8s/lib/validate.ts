// Validates rendered objects against the Kubernetes 1.32 API, failing on unknown fields.
//
// kubernetes-models (1.32 OpenAPI) checks types, required fields and enums but ignores
// unknown fields, so a second pass walks every object with the field lists of
// @kubernetes/client-node's models, restricted to the fields the 1.32 schema knows. A
// misspelt or misplaced key (e.g. `readinessprobe`, `spec.template.resources`) fails.
// Kinds outside core Kubernetes (ServiceMonitor, ScaledObject) get a minimal strict schema.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as clientNode from '@kubernetes/client-node';
import { Ajv } from 'ajv';
import { crdModelModule, metallbSchemas } from './network-schemas.ts';
import { REPO } from './render.ts';
import type { K8sObject } from './render.ts';

interface Attribute {
  baseName: string;
  type: string;
}
type ModelClass = { attributeTypeMap?: Attribute[] };
const models = clientNode as unknown as Record<string, ModelClass | undefined>;

const schemaDirs = [
  join(REPO, 'node_modules', 'kubernetes-models', '_schemas'),
  join(REPO, 'node_modules', '@kubernetes-models', 'apimachinery', '_schemas'),
];
const schemaFiles = schemaDirs.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => join(dir, f)));
const fieldCache = new Map<string, Set<string> | null>();

/** Fields the 1.32 schema defines for a client-node type name, or null when ambiguous. */
function schemaFields(typeName: string): Set<string> | null {
  if (fieldCache.has(typeName)) return fieldCache.get(typeName) ?? null;
  const matches = schemaFiles.filter((f) => f.endsWith(`${typeName}.js`) && /IoK8s(Api|Apimachinery|KubeAggregator)/.test(f));
  let fields: Set<string> | null = null;
  if (matches.length === 1 && matches[0]) {
    const text = readFileSync(matches[0], 'utf8');
    fields = new Set([...text.matchAll(/void 0===data\.([A-Za-z_$][\w$]*)/g)].map((m) => m[1] ?? ''));
  }
  fieldCache.set(typeName, fields);
  return fields;
}

const scalarTypes = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);

function walk(value: unknown, type: string, path: string, errors: string[]): void {
  if (value === null || value === undefined) return;
  if (type.startsWith('Array<')) {
    const inner = type.slice('Array<'.length, -1);
    if (!Array.isArray(value)) {
      errors.push(`${path}: expected a list`);
      return;
    }
    value.forEach((item, i) => {
      walk(item, inner, `${path}[${i}]`, errors);
    });
    return;
  }
  const mapType = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (mapType) {
    if (typeof value !== 'object' || Array.isArray(value)) {
      errors.push(`${path}: expected a map`);
      return;
    }
    for (const [k, v] of Object.entries(value)) walk(v, mapType[1] ?? 'any', `${path}.${k}`, errors);
    return;
  }
  if (scalarTypes.has(type)) return;
  const model = models[type];
  if (!model?.attributeTypeMap) {
    errors.push(`${path}: no model for type ${type}`);
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    errors.push(`${path}: expected an object of type ${type}`);
    return;
  }
  const attributes = new Map(model.attributeTypeMap.map((a) => [a.baseName, a.type]));
  const known132 = schemaFields(type);
  for (const [key, child] of Object.entries(value)) {
    const childType = attributes.get(key);
    if (childType === undefined || (known132 && !known132.has(key))) {
      errors.push(`${path}.${key}: unknown field in ${type} (Kubernetes 1.32)`);
      continue;
    }
    walk(child, childType, `${path}.${key}`, errors);
  }
}

function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').at(-1) ?? '';
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

async function validateCore(obj: K8sObject): Promise<string[]> {
  const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
  const modulePath = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(modulePath)) as Record<string, unknown>;
  } catch {
    return [`${obj.apiVersion} is not a Kubernetes 1.32 API group/version`];
  }
  const Model = mod[obj.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (!Model) return [`${obj.apiVersion} has no kind ${obj.kind} in Kubernetes 1.32`];
  const errors: string[] = [];
  try {
    new Model(obj).validate();
  } catch (error) {
    errors.push(error instanceof Error ? error.message : String(error));
  }
  walk(obj, modelName(obj.apiVersion, obj.kind), '', errors);
  return errors;
}

// Minimal strict schemas for the custom resources the charts can render.
const ajv = new Ajv({ allErrors: true, strict: true });
const str = { type: 'string', minLength: 1 };
const labels = { type: 'object', additionalProperties: { type: 'string' } };
const metadata = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: str, namespace: str, labels, annotations: labels },
};
const labelSelector = {
  type: 'object',
  additionalProperties: false,
  properties: { matchLabels: labels, matchExpressions: { type: 'array' } },
};
const customSchemas: Record<string, object> = {
  'monitoring.coreos.com/v1/ServiceMonitor': {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    additionalProperties: false,
    properties: {
      apiVersion: { const: 'monitoring.coreos.com/v1' },
      kind: { const: 'ServiceMonitor' },
      metadata,
      spec: {
        type: 'object',
        required: ['selector', 'endpoints'],
        additionalProperties: false,
        properties: {
          selector: labelSelector,
          jobLabel: str,
          namespaceSelector: {
            type: 'object',
            additionalProperties: false,
            properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: str } },
          },
          endpoints: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              required: ['port'],
              additionalProperties: false,
              properties: {
                port: str,
                path: { type: 'string', pattern: '^/' },
                interval: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$' },
                scrapeTimeout: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$' },
                scheme: { enum: ['http', 'https'] },
                honorLabels: { type: 'boolean' },
                relabelings: {
                  type: 'array',
                  items: {
                    type: 'object',
                    additionalProperties: false,
                    properties: { sourceLabels: { type: 'array', items: str }, targetLabel: str, regex: str, replacement: str, action: str },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
  'keda.sh/v1alpha1/ScaledObject': {
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    additionalProperties: false,
    properties: {
      apiVersion: { const: 'keda.sh/v1alpha1' },
      kind: { const: 'ScaledObject' },
      metadata,
      spec: {
        type: 'object',
        required: ['scaleTargetRef', 'triggers'],
        additionalProperties: false,
        properties: {
          scaleTargetRef: {
            type: 'object',
            required: ['name'],
            additionalProperties: false,
            properties: { name: str, kind: str, apiVersion: str },
          },
          minReplicaCount: { type: 'integer', minimum: 0 },
          maxReplicaCount: { type: 'integer', minimum: 1 },
          pollingInterval: { type: 'integer', minimum: 1 },
          cooldownPeriod: { type: 'integer', minimum: 0 },
          triggers: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              required: ['type', 'metadata'],
              additionalProperties: false,
              properties: {
                type: str,
                metadata: { type: 'object', additionalProperties: { type: 'string' } },
                authenticationRef: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: str } },
              },
            },
          },
        },
      },
    },
  },
};
Object.assign(customSchemas, metallbSchemas);
const customValidators = new Map(Object.entries(customSchemas).map(([key, schema]) => [key, ajv.compile(schema)]));

/** Every problem of one object; an empty list means valid. */
export async function validateObject(obj: K8sObject): Promise<string[]> {
  if (!obj || typeof obj.apiVersion !== 'string' || typeof obj.kind !== 'string') return ['not a Kubernetes object'];
  const custom = customValidators.get(`${obj.apiVersion}/${obj.kind}`);
  if (custom) {
    if (custom(obj)) return [];
    return (custom.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }
  const crdModule = crdModelModule(obj.apiVersion);
  if (crdModule) return validateCrdModel(crdModule, obj);
  return validateCore(obj);
}

async function validateCrdModel(modulePath: string, obj: K8sObject): Promise<string[]> {
  const mod = (await import(modulePath)) as Record<string, unknown>;
  const Model = mod[obj.kind] as (new (data: unknown) => { validate(): void }) | undefined;
  if (!Model) return [`${obj.apiVersion} has no kind ${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
}

export async function validateAll(objects: K8sObject[]): Promise<string[]> {
  const problems: string[] = [];
  for (const obj of objects) {
    for (const p of await validateObject(obj)) problems.push(`${obj.kind}/${obj.metadata?.name}: ${p}`);
  }
  return problems;
}
