// Rendering helpers shared by the tests/k8s suite: helm and kustomize, parsed once per input.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';

const run = promisify(execFile);

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const HELM = process.env['HELM_BIN'] ?? join(REPO, '.tools', 'bin', 'helm');
export const CHART = join(REPO, 'k8s', 'charts', 'auditflow-platform');
export const SUBCHARTS = [
  'audit-event-generator',
  'audit-log-analysis',
  'notification-service',
  'event-audit-dashboard',
  'postgresql',
  'rabbitmq',
  'redis',
  'audit-ingest',
] as const;
export const APP_CHARTS = SUBCHARTS.slice(0, 4);
export const ENVIRONMENTS = ['dev', 'staging', 'preprod', 'prod'] as const;
export const OVERLAYS = ['preprod', 'prod'] as const;

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [key: string]: unknown;
}

export interface Rendered {
  /** Human label of the input, used in assertion messages. */
  source: string;
  objects: K8sObject[];
}

export function valuesFile(env: string): string {
  return join(CHART, `values-${env}.yaml`);
}

function parseManifests(text: string, source: string): K8sObject[] {
  const docs = parseAllDocuments(text);
  const objects: K8sObject[] = [];
  for (const doc of docs) {
    if (doc.errors.length) throw new Error(`${source}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    objects.push(value as K8sObject);
  }
  return objects;
}

export async function helm(args: string[]): Promise<string> {
  const { stdout } = await run(HELM, args, { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

/** Runs helm and returns its combined output and exit status instead of throwing. */
export async function helmResult(args: string[], binary = HELM): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(binary, args, { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}${e.message}` };
  }
}

export async function helmTemplate(opts: {
  chart?: string;
  release?: string;
  namespace?: string;
  valuesFiles?: string[];
  set?: string[];
}): Promise<Rendered> {
  const chart = opts.chart ?? CHART;
  const args = ['template', opts.release ?? 'afp', chart, '--namespace', opts.namespace ?? 'auditflow'];
  for (const f of opts.valuesFiles ?? []) args.push('-f', f);
  for (const s of opts.set ?? []) args.push('--set', s);
  const source = `helm template ${chart.replace(REPO, '')} ${(opts.valuesFiles ?? []).map((f) => f.replace(REPO, '')).join(' ')} ${(opts.set ?? []).join(' ')}`.trim();
  return { source, objects: parseManifests(await helm(args), source) };
}

export async function kustomize(dir: string): Promise<Rendered> {
  const { stdout } = await run('kubectl', ['kustomize', dir], { cwd: REPO, maxBuffer: 64 * 1024 * 1024 });
  const source = `kubectl kustomize ${dir.replace(REPO, '')}`;
  return { source, objects: parseManifests(stdout, source) };
}

/** The subchart's section of an umbrella values file, with the shared globals, as a temp file. */
export function subchartValues(env: string, subchart: string): { file: string; cleanup: () => void } {
  const all = parse(readFileSync(valuesFile(env), 'utf8')) as Record<string, unknown>;
  const section = (all[subchart] ?? {}) as Record<string, unknown>;
  const dir = mkdtempSync(join(tmpdir(), 'af-k8s-values-'));
  const file = join(dir, `${env}-${subchart}.yaml`);
  writeFileSync(file, stringify({ ...section, global: all['global'] ?? {} }));
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function byKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${kind}/${name} not rendered (have: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')})`);
  return found;
}

export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'Pod']);

export interface PodTemplate {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: IPodSpec;
}

/** The pod template of any workload kind (a bare Pod is its own template). */
export function podTemplateOf(obj: K8sObject): PodTemplate | undefined {
  if (obj.kind === 'Pod') {
    return { labels: obj.metadata.labels ?? {}, annotations: obj.metadata.annotations ?? {}, spec: obj.spec as unknown as IPodSpec };
  }
  let spec = obj.spec as { template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: IPodSpec } } | undefined;
  if (obj.kind === 'CronJob') spec = (obj.spec as { jobTemplate?: { spec?: typeof spec } } | undefined)?.jobTemplate?.spec;
  if (!WORKLOAD_KINDS.has(obj.kind) || !spec?.template) return undefined;
  return {
    labels: spec.template.metadata?.labels ?? {},
    annotations: spec.template.metadata?.annotations ?? {},
    spec: spec.template.spec,
  };
}

export function isHook(obj: K8sObject): boolean {
  return Boolean(obj.metadata.annotations?.['helm.sh/hook']);
}
