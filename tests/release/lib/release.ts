// A rendered release (helm template of the umbrella for one values file, or kubectl
// kustomize of one overlay plus the Secrets k8s/base/create-secrets.sh makes for it), and
// what a cluster would do with it before any AuditFlow pod starts: the RabbitMQ
// definitions loaded, PostgreSQL initialised by the chart's init script, Redis booted from
// the chart's config. Everything runs on this machine's real servers, under names unique
// to the run (vhost, users, role, database), and is removed by cleanup().
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { CHART, type K8sObject, kustomize, helmTemplate, podTemplateOf, REPO, valuesFile } from '../../k8s/lib/render.ts';
import { freePort } from '../../support/processes.ts';
import { rabbitmqctl } from '../../support/rabbitmq.ts';

const run = promisify(execFile);

export const RELEASE = 'afp';

export type ReleaseInput = { kind: 'values'; env: 'dev' | 'staging' | 'preprod' | 'prod' } | { kind: 'overlay'; overlay: 'preprod' | 'prod' };

export const ALL_INPUTS: ReleaseInput[] = [
  { kind: 'values', env: 'dev' },
  { kind: 'values', env: 'staging' },
  { kind: 'values', env: 'preprod' },
  { kind: 'values', env: 'prod' },
  { kind: 'overlay', overlay: 'preprod' },
  { kind: 'overlay', overlay: 'prod' },
];

export function inputName(input: ReleaseInput): string {
  return input.kind === 'values' ? `values-${input.env}` : `overlay-${input.overlay}`;
}

export interface RenderedRelease {
  name: string;
  namespace: string;
  objects: K8sObject[];
}

/** The manifests a cluster would receive for one input, Secrets included. */
export async function renderRelease(input: ReleaseInput): Promise<RenderedRelease> {
  if (input.kind === 'values') {
    const r = await helmTemplate({ release: RELEASE, namespace: 'auditflow', valuesFiles: [valuesFile(input.env)] });
    return { name: inputName(input), namespace: 'auditflow', objects: r.objects };
  }
  const r = await kustomize(join(REPO, 'k8s', 'overlays', input.overlay));
  const namespace = r.objects.find((o) => o.kind === 'Namespace')?.metadata.name ?? r.objects.find((o) => o.metadata.namespace)?.metadata.namespace ?? 'auditflow';
  return { name: inputName(input), namespace, objects: [...r.objects, ...(await overlaySecrets(namespace))] };
}

/**
 * The overlays reference Secrets that are never committed: the operator makes them with
 * k8s/base/create-secrets.sh. The real script runs here, with a kubectl that reports no
 * Secret yet and keeps what would be created.
 */
async function overlaySecrets(namespace: string): Promise<K8sObject[]> {
  const dir = mkdtempSync(join(tmpdir(), 'af-secrets-'));
  try {
    const out = join(dir, 'created.yaml');
    const kubectl = join(dir, 'kubectl');
    writeFileSync(kubectl, `#!/bin/sh\ncase " $* " in *" get "*) exit 1 ;; *" create "*) { echo ---; cat; } >>"${out}" ;; esac\n`);
    chmodSync(kubectl, 0o755);
    const helm = process.env['HELM_BIN'] ?? join(REPO, '.tools', 'bin', 'helm');
    await run('bash', [join(REPO, 'k8s', 'base', 'create-secrets.sh'), namespace], { env: { ...process.env, HELM: helm, KUBECTL: kubectl } });
    const { parseAllDocuments } = await import('yaml');
    return parseAllDocuments(readFileSync(out, 'utf8'))
      .map((d) => d.toJS() as K8sObject | null)
      .filter((o): o is K8sObject => o !== null);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function objectsOf(release: RenderedRelease, kind: string): K8sObject[] {
  return release.objects.filter((o) => o.kind === kind);
}

export function named(release: RenderedRelease, kind: string, name: string): K8sObject {
  const found = release.objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`${release.name}: ${kind}/${name} is not rendered`);
  return found;
}

export function secretValue(release: RenderedRelease, name: string, key: string): string {
  const secret = named(release, 'Secret', name) as K8sObject & { stringData?: Record<string, string> };
  const raw = secret.data?.[key];
  if (raw !== undefined) return Buffer.from(raw, 'base64').toString('utf8');
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return plain;
  throw new Error(`${release.name}: Secret/${name} has no key ${key}`);
}

export function configMapValue(release: RenderedRelease, name: string, key: string): string {
  const value = named(release, 'ConfigMap', name).data?.[key];
  if (value === undefined) throw new Error(`${release.name}: ConfigMap/${name} has no key ${key}`);
  return value;
}

/** The env of a container as the kubelet gives it: values, Secret and ConfigMap references resolved, $(VAR) expanded. */
export function resolvedEnv(release: RenderedRelease, container: IContainer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.secretRef?.name) {
      const secret = named(release, 'Secret', from.secretRef.name);
      for (const key of Object.keys(secret.data ?? {})) env[(from.prefix ?? '') + key] = secretValue(release, from.secretRef.name, key);
    }
    if (from.configMapRef?.name) {
      for (const [key, value] of Object.entries(named(release, 'ConfigMap', from.configMapRef.name).data ?? {})) env[(from.prefix ?? '') + key] = value;
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string) => env[v] ?? m);
    else if (e.valueFrom?.secretKeyRef) {
      const { name, key, optional } = e.valueFrom.secretKeyRef;
      try {
        env[e.name] = secretValue(release, name ?? '', key);
      } catch (error) {
        if (!optional) throw error;
      }
    } else if (e.valueFrom?.configMapKeyRef) {
      env[e.name] = configMapValue(release, e.valueFrom.configMapKeyRef.name ?? '', e.valueFrom.configMapKeyRef.key);
    } else if (e.valueFrom) throw new Error(`${release.name}: env ${e.name} uses an unsupported source`);
  }
  return env;
}

export interface Workload {
  kind: string;
  name: string;
  /** app.kubernetes.io/name of the pod template. */
  app: string;
  template: NonNullable<ReturnType<typeof podTemplateOf>>;
}

export function deployments(release: RenderedRelease): Workload[] {
  return objectsOf(release, 'Deployment').map((o) => {
    const template = podTemplateOf(o);
    if (!template) throw new Error(`${release.name}: Deployment/${o.metadata.name} has no pod template`);
    return { kind: o.kind, name: o.metadata.name, app: template.labels['app.kubernetes.io/name'] ?? o.metadata.name, template };
  });
}

export function statefulSetEnv(release: RenderedRelease, app: string): Record<string, string> {
  const set = objectsOf(release, 'StatefulSet').find((o) => podTemplateOf(o)?.labels['app.kubernetes.io/name'] === app);
  if (!set) throw new Error(`${release.name}: no StatefulSet of ${app}`);
  const container = podTemplateOf(set)?.spec.containers[0];
  if (!container) throw new Error(`${release.name}: StatefulSet/${set.metadata.name} has no container`);
  return resolvedEnv(release, container);
}

interface Definitions {
  users: { name: string; password?: string; tags?: unknown }[];
  vhosts: { name: string }[];
  permissions: { user: string; vhost: string }[];
  queues?: { vhost: string }[];
  policies?: { vhost: string }[];
  exchanges?: { vhost: string }[];
  bindings?: { vhost: string }[];
}

/** Unique names of one run for what the release would create on its own servers. */
export class RunNames {
  readonly id = randomBytes(4).toString('hex');
  readonly vhost = `af-release-${this.id}`;
  readonly #users = new Map<string, string>();
  readonly database = `af_rel_db_${this.id}`;
  readonly dbUser = `af_rel_${this.id}`;

  rabbitUser(original: string): string {
    let name = this.#users.get(original);
    if (!name) {
      name = `af-${this.id}-${original}`;
      this.#users.set(original, name);
    }
    return name;
  }

  get rabbitUsers(): string[] {
    return [...this.#users.values()];
  }
}

/** The shared servers, prepared as the release's own would be: its users, rights, roles and config. */
export class ReleaseServers {
  readonly names = new RunNames();
  readonly #cleanups: (() => Promise<void>)[] = [];
  redisPort = 0;
  #work = '';

  readonly release: RenderedRelease;

  constructor(release: RenderedRelease) {
    this.release = release;
  }

  /** The RabbitMQ definitions of the release's broker Secret, loaded into a fresh vhost under fresh user names. */
  async loadRabbitDefinitions(): Promise<void> {
    const secret = objectsOf(this.release, 'Secret').find((s) => s.data?.['definitions.json'] !== undefined);
    if (!secret) throw new Error(`${this.release.name}: no Secret carries definitions.json`);
    const defs = JSON.parse(secretValue(this.release, secret.metadata.name, 'definitions.json')) as Definitions;
    const vhosts = new Set(defs.vhosts.map((v) => v.name));
    const renameVhost = (v: string) => {
      if (!vhosts.has(v)) throw new Error(`definitions use vhost ${v} that they do not declare`);
      return this.names.vhost;
    };
    const renamed: Definitions = {
      ...defs,
      users: defs.users.map((u) => ({ ...u, name: this.names.rabbitUser(u.name) })),
      vhosts: [{ name: this.names.vhost }],
      permissions: defs.permissions.map((p) => ({ ...p, user: this.names.rabbitUser(p.user), vhost: renameVhost(p.vhost) })),
      queues: defs.queues?.map((q) => ({ ...q, vhost: renameVhost(q.vhost) })),
      policies: defs.policies?.map((p) => ({ ...p, vhost: renameVhost(p.vhost) })),
      exchanges: defs.exchanges?.map((e) => ({ ...e, vhost: renameVhost(e.vhost) })),
      bindings: defs.bindings?.map((b) => ({ ...b, vhost: renameVhost(b.vhost) })),
    };
    this.#cleanups.push(async () => {
      await rabbitmqctl(['delete_vhost', this.names.vhost]).catch(() => {});
      for (const user of this.names.rabbitUsers) await rabbitmqctl(['delete_user', user]).catch(() => {});
    });
    // rabbitmqctl drops to the broker's own user: the file must be readable by it.
    const dir = mkdtempSync(join(tmpdir(), 'af-defs-'));
    chmodSync(dir, 0o755);
    const file = join(dir, 'definitions.json');
    writeFileSync(file, JSON.stringify(renamed), { mode: 0o644 });
    try {
      await rabbitmqctl(['import_definitions', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** The chart's PostgreSQL init script, run as the server's entrypoint would, for a fresh role and database. */
  async initPostgres(): Promise<void> {
    const cm = objectsOf(this.release, 'ConfigMap').find((c) => Object.keys(c.data ?? {}).some((k) => k.endsWith('.sh') && /CREATE ROLE/.test(c.data?.[k] ?? '')));
    if (!cm) throw new Error(`${this.release.name}: no PostgreSQL init script rendered`);
    const env = statefulSetEnv(this.release, 'postgresql');
    this.#cleanups.push(async () => {
      const c = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${this.names.database}" WITH (FORCE)`);
        await c.query(`DROP ROLE IF EXISTS "${this.names.dbUser}"`);
      } finally {
        await c.end();
      }
    });
    for (const [key, script] of Object.entries(cm.data ?? {}).sort()) {
      if (!key.endsWith('.sh')) continue;
      const file = join(this.workDir(), key);
      writeFileSync(file, script);
      await run('sh', [file], {
        env: {
          PATH: process.env['PATH'] ?? '',
          PGHOST: '127.0.0.1',
          POSTGRES_USER: env['POSTGRES_USER'] ?? 'postgres',
          AUDITFLOW_DB_USER: this.names.dbUser,
          AUDITFLOW_DB_NAME: this.names.database,
          AUDITFLOW_DB_PASSWORD: env['AUDITFLOW_DB_PASSWORD'] ?? '',
        },
      });
    }
  }

  /** redis-server booted from the chart's redis.conf with the chart's password, on a port of its own. */
  async startRedis(): Promise<void> {
    const cm = objectsOf(this.release, 'ConfigMap').find((c) => c.data?.['redis.conf'] !== undefined);
    if (!cm) throw new Error(`${this.release.name}: no redis.conf rendered`);
    const password = statefulSetEnv(this.release, 'redis')['REDIS_PASSWORD'];
    if (!password) throw new Error(`${this.release.name}: Redis has no password`);
    const dir = mkdtempSync(join(this.workDir(), 'redis-'));
    this.redisPort = await freePort();
    const conf = (cm.data?.['redis.conf'] ?? '').replace(/^port \d+$/m, `port ${this.redisPort}`).replace(/^dir .*$/m, `dir ${dir}`);
    writeFileSync(join(dir, 'redis.conf'), `${conf}\nbind 127.0.0.1\n`);
    await run('redis-server', [join(dir, 'redis.conf'), '--requirepass', password, '--daemonize', 'yes', '--pidfile', join(dir, 'redis.pid')]);
    this.#cleanups.push(async () => {
      await run('redis-cli', ['-h', '127.0.0.1', '-p', String(this.redisPort), 'shutdown', 'nosave'], { env: { ...process.env, REDISCLI_AUTH: password } }).catch(() => {});
    });
    for (let i = 0; i < 50; i++) {
      const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(this.redisPort), 'ping'], { env: { ...process.env, REDISCLI_AUTH: password } }).catch(() => ({ stdout: '' }));
      if (stdout.trim() === 'PONG') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`redis-server did not answer on port ${this.redisPort}`);
  }

  /** The container's env with the run's names in place of the release's (users, vhost, role, database). */
  envOf(container: IContainer): Record<string, string> {
    const env = resolvedEnv(this.release, container);
    if (env['RABBITMQ_USER'] !== undefined) env['RABBITMQ_USER'] = this.names.rabbitUser(env['RABBITMQ_USER']);
    if (env['RABBITMQ_VHOST'] !== undefined) env['RABBITMQ_VHOST'] = this.names.vhost;
    if (env['PG_USER'] !== undefined) env['PG_USER'] = this.names.dbUser;
    if (env['PG_DB'] !== undefined) env['PG_DB'] = this.names.database;
    return env;
  }

  workDir(): string {
    if (!this.#work) {
      this.#work = mkdtempSync(join(tmpdir(), `af-release-${this.names.id}-`));
      chmodSync(this.#work, 0o755);
    }
    return this.#work;
  }

  async cleanup(): Promise<void> {
    for (const c of this.#cleanups.reverse()) await c().catch(() => {});
    if (this.#work) rmSync(this.#work, { recursive: true, force: true });
  }
}

export { CHART };
