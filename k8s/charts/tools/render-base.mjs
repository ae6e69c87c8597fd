#!/usr/bin/env node
// Regenerates k8s/base and the Kustomize components from the Helm chart.
//
// The chart is the single source of truth for every manifest; k8s/base is its rendering
// with fixed names and no Secrets, so the Kustomize path (preprod, prod) can never drift
// from the Helm path (dev, staging). tests/k8s fail when the committed files are stale.
//
//   node k8s/charts/tools/render-base.mjs          rewrite k8s/base and k8s/components
//   node k8s/charts/tools/render-base.mjs --check  exit 1 when they are stale
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { writeOrCheck } from '../../../scripts/lib/generated-file.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const chart = join(repo, 'k8s', 'charts', 'auditflow-platform');
const helm = process.env.HELM_BIN ?? join(repo, '.tools', 'bin', 'helm');
export const RELEASE = 'afp';

// Chart name -> base folder (the seed's layout names the PostgreSQL folder `postgres`).
const folders = {
  'audit-event-generator': 'audit-event-generator',
  'audit-log-analysis': 'audit-log-analysis',
  'notification-service': 'notification-service',
  'event-audit-dashboard': 'event-audit-dashboard',
  'audit-ingest': 'audit-ingest',
  postgresql: 'postgres',
  rabbitmq: 'rabbitmq',
  redis: 'redis',
};

function render(valuesFiles, namespace = 'auditflow') {
  const args = ['template', RELEASE, chart, '--namespace', namespace, ...valuesFiles.flatMap((f) => ['-f', f])];
  const out = execFileSync(helm, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return parseAllDocuments(out)
    .map((d) => d.toJS())
    .filter((o) => o && typeof o === 'object');
}

function relabel(labels) {
  if (!labels) return labels;
  const out = { ...labels };
  delete out['helm.sh/chart'];
  if (out['app.kubernetes.io/managed-by']) out['app.kubernetes.io/managed-by'] = 'kustomize';
  return out;
}

// Helm-only metadata goes; the namespace is left to each overlay.
function clean(obj) {
  const o = structuredClone(obj);
  delete o.metadata.namespace;
  o.metadata.labels = relabel(o.metadata.labels);
  const tpl = o.spec?.template;
  if (tpl?.metadata) {
    tpl.metadata.labels = relabel(tpl.metadata.labels);
    // Kustomize cannot see Secret contents; the config checksum is recomputed on every
    // regeneration, so it still rolls pods when the base's configuration changes.
    if (tpl.metadata.annotations) delete tpl.metadata.annotations['checksum/secrets'];
  }
  for (const vct of o.spec?.volumeClaimTemplates ?? []) vct.metadata.labels = relabel(vct.metadata.labels);
  return o;
}

function componentOf(obj) {
  const name = obj.metadata.labels?.['app.kubernetes.io/name'];
  if (!folders[name]) throw new Error(`no base folder for ${obj.kind}/${obj.metadata.name} (name label ${name})`);
  return folders[name];
}

const kustomization = (resources, kind = 'Kustomization', extra = {}) => ({
  apiVersion: kind === 'Component' ? 'kustomize.config.k8s.io/v1alpha1' : 'kustomize.config.k8s.io/v1beta1',
  kind,
  ...extra,
  resources,
});

function fileName(obj) {
  return `${obj.kind.toLowerCase()}-${obj.metadata.name.replace(`${RELEASE}-`, '')}.yaml`;
}

const header = '# Generated from k8s/charts/auditflow-platform by k8s/charts/tools/render-base.mjs; do not edit.\n';

/** Every file the generator owns, as { path relative to the repo: content }. */
export function expectedFiles() {
  const files = {};
  const put = (path, obj) => {
    files[path] = header + stringify(obj, { lineWidth: 0 });
  };
  const defaults = render([]);
  const prod = render([join(chart, 'values-prod.yaml')]);
  const isHook = (o) => o.metadata.annotations?.['helm.sh/hook'];

  const perFolder = {};
  const policies = [];
  for (const o of defaults) {
    if (isHook(o) || o.kind === 'Secret' || o.kind === 'PodDisruptionBudget') continue;
    if (o.kind === 'NetworkPolicy') {
      policies.push(clean(o));
      continue;
    }
    const folder = componentOf(o);
    perFolder[folder] ??= [];
    perFolder[folder].push(clean(o));
  }
  for (const [folder, objs] of Object.entries(perFolder)) {
    const names = objs.map(fileName).sort();
    for (const o of objs) put(`k8s/base/${folder}/${fileName(o)}`, o);
    put(`k8s/base/${folder}/kustomization.yaml`, kustomization(names));
  }
  put(
    'k8s/base/kustomization.yaml',
    kustomization(Object.keys(perFolder).sort(), 'Kustomization', {
      labels: [{ pairs: { 'app.kubernetes.io/part-of': 'auditflow' }, includeSelectors: false }],
      components: ['../components/network-policies'],
    }),
  );
  for (const o of policies) put(`k8s/components/network-policies/${fileName(o)}`, o);
  put('k8s/components/network-policies/kustomization.yaml', kustomization(policies.map(fileName).sort(), 'Component'));

  // PDBs come from the prod values: minAvailable where several replicas run.
  const pdbs = prod.filter((o) => o.kind === 'PodDisruptionBudget').map(clean);
  for (const o of pdbs) put(`k8s/components/pod-disruption-budgets/${fileName(o)}`, o);
  put('k8s/components/pod-disruption-budgets/kustomization.yaml', kustomization(pdbs.map(fileName).sort(), 'Component'));

  // The lab network (docs/network.md) for prod: the release's own objects are a Component the
  // overlay may add; the cluster-wide ones (issuers, the CA in cert-manager's namespace, the
  // MetalLB pool, kube-system's coredns-custom) keep their namespaces in a Kustomization of
  // their own, applied once per cluster.
  const lab = render([join(chart, 'values-prod.yaml'), join(chart, 'values-lab-network.yaml')], 'prod').filter(
    (o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'lab-network',
  );
  const own = lab.filter((o) => o.metadata.namespace === 'prod').map(clean);
  const cluster = lab
    .filter((o) => o.metadata.namespace !== 'prod')
    .map((o) => {
      const c = structuredClone(o);
      c.metadata.labels = relabel(c.metadata.labels);
      return c;
    });
  for (const o of own) put(`k8s/components/lab-network/${fileName(o)}`, o);
  put('k8s/components/lab-network/kustomization.yaml', kustomization(own.map(fileName).sort(), 'Component'));
  for (const o of cluster) put(`k8s/components/lab-network/cluster/${fileName(o)}`, o);
  put('k8s/components/lab-network/cluster/kustomization.yaml', kustomization(cluster.map(fileName).sort()));
  return files;
}

function ownedFiles() {
  const out = [];
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.yaml') && readFileSync(p, 'utf8').startsWith(header)) out.push(relative(repo, p));
    }
  };
  walk(join(repo, 'k8s', 'base'));
  walk(join(repo, 'k8s', 'components'));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const expected = expectedFiles();
  // A file this generator once wrote that the chart no longer renders is removed (content null).
  const obsolete = ownedFiles().filter((path) => !expected[path]);
  writeOrCheck(
    [...Object.entries(expected).map(([path, content]) => ({ path: join(repo, path), content })), ...obsolete.map((path) => ({ path: join(repo, path), content: null }))],
    { command: 'node k8s/charts/tools/render-base.mjs' },
  );
}
