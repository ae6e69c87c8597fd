// Chart-to-code contract: for each service, the env, ports and probe paths of the rendered
// Deployment are exactly what the code reads and serves.
//
// Statically: every env name the chart sets is documented for that service in
// docs/configuration.md and read by the service's code; ports and probes match the
// documented table. Dynamically: the service is started from source with the rendered env
// (hosts pointed at this machine's RabbitMQ, Redis and PostgreSQL, secrets replaced by local
// credentials, its own ports remapped to free ones in env and probes alike), and every
// probe and the scrape endpoint of the rendered pod must answer on the declared ports.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { Redis } from 'ioredis';
import { Connection } from 'rabbitmq-client';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { GENERATOR_ENV } from '@auditflow/audit-event-generator/config';
import { ENRICHMENT_ENV } from '@auditflow/audit-log-analysis/enrichment/enrichment-config';
import { REDIS_ENV } from '@auditflow/audit-log-analysis/redis-config';
import { BASE_ENV, type EnvSpec, RABBIT_ENV } from '@auditflow/common/platform';
import { DASHBOARD_ENV } from '@auditflow/event-audit-dashboard/config';
import { NOTIFICATION_ENV } from '@auditflow/notification-service/config';
import { POSTGRES_ENV } from '@auditflow/notification-service/postgres-config';
import { APP_CHARTS, type K8sObject, REPO, type Rendered, find, helmTemplate, podTemplateOf } from './lib/render.ts';
import { freePort } from '../support/processes.ts';

type Service = (typeof APP_CHARTS)[number];

const RUN_ID = randomBytes(4).toString('hex');
const EVENTS_QUEUE = `contract-${RUN_ID}-events`;
const ALERTS_QUEUE = `contract-${RUN_ID}-alerts`;
const KEY_PREFIX = `contract-${RUN_ID}:`;
const DATABASE = `af_contract_${RUN_ID}`;
const API_TOKEN = randomBytes(24).toString('hex');
// Local stand-ins for the values the cluster reads from Secrets. Local Redis and PostgreSQL
// have no password, so those variables are left unset rather than set to a wrong value.
const LOCAL_SECRETS: Record<string, string | undefined> = {
  RABBITMQ_PASS: 'guest',
  REDIS_PASSWORD: undefined,
  PG_PASSWORD: undefined,
  API_TOKENS: API_TOKEN,
  NOTIFICATION_API_TOKEN: API_TOKEN,
};
const DEPENDENCY_PREFIXES = ['RABBITMQ_', 'REDIS_', 'PG_', 'NOTIFICATION_SERVICE_'];

let rendered: Rendered;
let workDir: string;
const running = new Map<Service, { child: ChildProcess; output: () => string; ports: Map<string, number> }>();

// ---------------------------------------------------------------------------------------
// docs/configuration.md: documented variables per section, and the "Ports at a glance" table.

interface PortRow {
  appPort: number;
  appName: string;
  metricsPort: number;
  metricsName: string | undefined;
  liveness: string;
  readiness: string;
}

function readDocs(): { sections: Map<string, Set<string>>; ports: Map<string, PortRow> } {
  const text = readFileSync(join(REPO, 'docs', 'configuration.md'), 'utf8');
  const sections = new Map<string, Set<string>>();
  const ports = new Map<string, PortRow>();
  let heading = '';
  for (const line of text.split('\n')) {
    const h = /^#{2,3} (.+)$/.exec(line);
    if (h) {
      heading = h[1]!.trim();
      continue;
    }
    const envRow = /^\| `([A-Z][A-Z0-9_]*)` \|/.exec(line);
    if (envRow) {
      if (!sections.has(heading)) sections.set(heading, new Set());
      sections.get(heading)!.add(envRow[1]!);
    }
    const portRow = /^\| ([a-z-]+) \| (\d+) `([a-z-]+)` \| (\d+) (?:`([a-z-]+)`|\(same\)) \| `GET (\S+)`[^|]*\| `GET (\S+)`/.exec(line);
    if (portRow && heading === 'Ports at a glance') {
      ports.set(portRow[1]!, {
        appPort: Number(portRow[2]),
        appName: portRow[3]!,
        metricsPort: Number(portRow[4]),
        metricsName: portRow[5],
        liveness: portRow[6]!,
        readiness: portRow[7]!,
      });
    }
  }
  return { sections, ports };
}

function documentedEnv(service: Service, sections: Map<string, Set<string>>): Set<string> {
  const pick = (title: string) => {
    const found = [...sections.entries()].find(([h]) => h === title || h.startsWith(`${title} (`));
    assert.ok(found, `docs/configuration.md has no section "${title}"`);
    return [...found[1]];
  };
  const names = [...pick('Shared by every service'), ...pick(service)];
  if (service !== 'event-audit-dashboard') names.push(...pick('RabbitMQ'));
  if (service === 'audit-log-analysis') names.push(...pick('Redis'));
  if (service === 'notification-service') names.push(...pick('PostgreSQL'));
  return new Set(names);
}

/** The defineEnv() declarations each service reads: src/common/src's and its own. */
const DECLARATIONS: Partial<Record<Service, readonly EnvSpec[]>> = {
  'audit-event-generator': [BASE_ENV, RABBIT_ENV, GENERATOR_ENV],
  'audit-log-analysis': [BASE_ENV, RABBIT_ENV, REDIS_ENV, ENRICHMENT_ENV],
  'notification-service': [BASE_ENV, RABBIT_ENV, NOTIFICATION_ENV, POSTGRES_ENV],
  'event-audit-dashboard': [BASE_ENV, DASHBOARD_ENV],
};

function declaredEnv(service: Service): Set<string> {
  const specs = DECLARATIONS[service];
  assert.ok(specs, `${service}: no defineEnv() declarations listed in DECLARATIONS`);
  return new Set(specs.flatMap((spec) => Object.keys(spec)));
}

function sourceTexts(service: Service): string {
  const texts: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) texts.push(readFileSync(p, 'utf8'));
    }
  };
  walk(join(REPO, 'src', service, 'src'));
  walk(join(REPO, 'src', 'common', 'src'));
  return texts.join('\n');
}

// ---------------------------------------------------------------------------------------
// Rendered manifest helpers.

function deploymentOf(service: Service): K8sObject {
  return find(rendered.objects, 'Deployment', `contract-${service}`);
}

function containerOf(service: Service): IContainer {
  const c = podTemplateOf(deploymentOf(service))?.spec.containers[0];
  assert.ok(c, `${service}: no container`);
  return c;
}


/** The rendered env made runnable here, and the container port names remapped to free ports. */
async function localEnv(service: Service): Promise<{ env: Record<string, string>; ports: Map<string, number> }> {
  const container = containerOf(service);
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.valueFrom?.secretKeyRef) {
      assert.ok(Object.hasOwn(LOCAL_SECRETS, e.name), `${service}: unexpected Secret-backed variable ${e.name}`);
      const local = LOCAL_SECRETS[e.name];
      if (local !== undefined) env[e.name] = local;
      continue;
    }
    assert.ok(e.value !== undefined, `${service}: ${e.name} has neither value nor secretKeyRef`);
    env[e.name] = e.value;
  }

  // Each container port must be configured by exactly one of the service's own *_PORT variables.
  const ports = new Map<string, number>();
  for (const p of container.ports ?? []) {
    const owners = Object.keys(env).filter(
      (name) => name.endsWith('_PORT') && !DEPENDENCY_PREFIXES.some((d) => name.startsWith(d)) && env[name] === String(p.containerPort),
    );
    assert.equal(owners.length, 1, `${service}: container port ${p.name}=${p.containerPort} is set by ${owners.length} variables (${owners.join(', ')})`);
    const local = await freePort();
    env[owners[0]!] = String(local);
    ports.set(p.name ?? '', local);
    ports.set(String(p.containerPort), local);
  }

  for (const name of Object.keys(env)) if (name.endsWith('_HOST') && name !== 'API_HOST') env[name] = '127.0.0.1';
  if ('RABBITMQ_USER' in env) env['RABBITMQ_USER'] = 'guest';
  if ('RABBITMQ_QUEUE' in env) env['RABBITMQ_QUEUE'] = EVENTS_QUEUE;
  if ('RABBITMQ_ALERT_QUEUE' in env) env['RABBITMQ_ALERT_QUEUE'] = ALERTS_QUEUE;
  if ('REDIS_KEY_PREFIX' in env) env['REDIS_KEY_PREFIX'] = KEY_PREFIX;
  if ('PG_DB' in env) {
    env['PG_DB'] = DATABASE;
    env['PG_USER'] = 'postgres';
  }
  if ('RULES_FILE' in env) env['RULES_FILE'] = mountRules(service, env['RULES_FILE']!);
  // The exceptions ConfigMap is mounted the same way (the rendered file must load, too).
  if ('EXCEPTIONS_FILE' in env) env['EXCEPTIONS_FILE'] = mountRules(service, env['EXCEPTIONS_FILE']!);
  if (service === 'event-audit-dashboard') {
    const api = running.get('notification-service');
    assert.ok(api, 'the dashboard needs notification-service running');
    env['NOTIFICATION_SERVICE_PORT'] = String(api.ports.get('http'));
  }
  return { env, ports };
}

/** Writes the rendered rules ConfigMap where the pod would see it, after checking the mount. */
function mountRules(service: Service, rulesFile: string): string {
  const tpl = podTemplateOf(deploymentOf(service))!;
  const mount = containerOf(service).volumeMounts?.find((m) => rulesFile.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  assert.ok(mount, `${service}: RULES_FILE ${rulesFile} is not inside any volume mount`);
  const volume = tpl.spec.volumes?.find((v) => v.name === mount.name);
  const cm = find(rendered.objects, 'ConfigMap', volume?.configMap?.name ?? '-');
  const key = rulesFile.slice(mount.mountPath.replace(/\/$/, '').length + 1);
  const item = volume?.configMap?.items?.find((i) => i.path === key);
  const content = cm.data?.[item?.key ?? key];
  assert.ok(content, `${service}: ConfigMap ${cm.metadata.name} has no ${key}`);
  const local = join(workDir, `${service}-${key}`);
  writeFileSync(local, content);
  return local;
}

function start(service: Service, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--conditions=source', `src/${service}/src/main.ts`], {
    cwd: REPO,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  return { child, output: () => output.slice(-4000) };
}

async function waitFor(url: string, child: ChildProcess, output: () => string, timeoutMs = 60_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null) assert.fail(`the service exited with ${child.exitCode} before ${url} answered:\n${output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
      if (response.status === 200) return response;
      last = `HTTP ${response.status} ${await response.text()}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return assert.fail(`${url} did not answer 200 within ${timeoutMs} ms (${last}):\n${output()}`);
}

function probeUrl(probe: IProbe | undefined, ports: Map<string, number>): string | undefined {
  if (!probe?.httpGet) return undefined;
  const port = ports.get(String(probe.httpGet.port));
  assert.ok(port, `probe port ${probe.httpGet.port} is not a container port`);
  return `http://127.0.0.1:${port}${probe.httpGet.path ?? '/'}`;
}

async function stop(service: Service): Promise<number | string> {
  const proc = running.get(service);
  if (!proc) return 'not running';
  running.delete(service);
  const { child } = proc;
  if (child.exitCode !== null) return child.exitCode;
  const grace = Number(podTemplateOf(deploymentOf(service))?.spec.terminationGracePeriodSeconds ?? 30) * 1000;
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), grace);
  const result = await exited;
  clearTimeout(timer);
  return result;
}

// ---------------------------------------------------------------------------------------

before(async () => {
  rendered = await helmTemplate({ release: 'contract', namespace: 'contract' });
  workDir = mkdtempSync(join(tmpdir(), 'af-contract-'));
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${DATABASE}"`);
  } finally {
    await admin.end();
  }
});

after(async () => {
  for (const service of [...running.keys()].reverse()) await stop(service);
  const problems: string[] = [];
  const amqp = new Connection({ url: 'amqp://guest:guest@127.0.0.1:5672', retryLow: 100, retryHigh: 200, connectionTimeout: 5000 });
  amqp.on('error', () => {});
  try {
    for (const queue of [EVENTS_QUEUE, ALERTS_QUEUE, `${EVENTS_QUEUE}.dlq`, `${ALERTS_QUEUE}.dlq`]) await amqp.queueDelete({ queue });
  } catch (error) {
    problems.push(`queues: ${String(error)}`);
  } finally {
    await amqp.close();
  }
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${KEY_PREFIX}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } catch (error) {
    problems.push(`redis: ${String(error)}`);
  } finally {
    redis.disconnect();
  }
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
  try {
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  } catch (error) {
    problems.push(`postgres: ${String(error)}`);
  } finally {
    await admin.end().catch(() => {});
  }
  rmSync(workDir, { recursive: true, force: true });
  assert.deepEqual(problems, [], 'cleanup failed');
});

describe('chart-to-code contract', () => {
  const docs = readDocs();

  for (const service of APP_CHARTS) {
    test(`${service}: every env variable the chart sets is documented for it and read by its code`, () => {
      const documented = documentedEnv(service, docs.sections);
      const declared = declaredEnv(service);
      const code = sourceTexts(service);
      const names = (containerOf(service).env ?? []).map((e) => e.name);
      assert.equal(new Set(names).size, names.length, `${service}: duplicate env names`);
      const undocumented = names.filter((n) => !documented.has(n));
      assert.deepEqual(undocumented, [], `${service}: not in docs/configuration.md for this service`);
      // Declared in one of the service's defineEnv() declarations (readEnv() reads every key, whatever the
      // declaration's layout), or read by name.
      const unread = names.filter((n) => !declared.has(n) && !new RegExp(`['"\`]${n}['"\`]`).test(code));
      assert.deepEqual(unread, [], `${service}: set by the chart but never read in src/${service}/src or src/common/src`);
    });

    test(`${service}: ports and probe paths are the documented ones`, () => {
      const row = docs.ports.get(service);
      assert.ok(row, `docs/configuration.md "Ports at a glance" has no row for ${service}`);
      const c = containerOf(service);
      const ports = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
      assert.equal(ports.get(row.appName), row.appPort, `${service}: app port`);
      if (row.metricsName) assert.equal(ports.get(row.metricsName), row.metricsPort, `${service}: metrics port`);
      else assert.equal(ports.size, 1, `${service}: metrics share the app port, so only one port is declared`);
      for (const [probe, path] of [
        [c.livenessProbe, row.liveness],
        [c.readinessProbe, row.readiness],
      ] as const) {
        assert.equal(probe?.httpGet?.path, path, `${service}: probe path`);
        assert.equal(probe?.httpGet?.port, row.appName, `${service}: probes target the app port by name`);
      }
      const tpl = podTemplateOf(deploymentOf(service))!;
      assert.equal(Number(tpl.annotations['prometheus.io/port']), row.metricsPort, `${service}: scrape port`);
    });
  }

  // The dashboard's readiness depends on the notification API, so the order matters.
  for (const service of ['notification-service', 'audit-event-generator', 'audit-log-analysis', 'event-audit-dashboard'] as const) {
    test(`${service}: started with the rendered env, it answers every probe and serves metrics on the declared ports`, async () => {
      const { env, ports } = await localEnv(service);
      const proc = start(service, env);
      running.set(service, { ...proc, ports });
      const c = containerOf(service);
      for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
        const url = probeUrl(probe, ports);
        if (url) await waitFor(url, proc.child, proc.output);
      }
      const tpl = podTemplateOf(deploymentOf(service))!;
      const metricsPort = ports.get(tpl.annotations['prometheus.io/port'] ?? '');
      assert.ok(metricsPort, `${service}: the scrape port is not a container port`);
      const metrics = await waitFor(`http://127.0.0.1:${metricsPort}${tpl.annotations['prometheus.io/path'] ?? '/metrics'}`, proc.child, proc.output);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(await metrics.text(), /^# (HELP|TYPE) /m);
    });
  }

  test('on SIGTERM every service drains and exits 0 within its terminationGracePeriodSeconds', async () => {
    assert.equal(running.size, APP_CHARTS.length, 'every service must be running at this point');
    const results: Record<string, number | string> = {};
    for (const service of ['event-audit-dashboard', 'audit-event-generator', 'audit-log-analysis', 'notification-service'] as const) {
      const out = running.get(service)?.output() ?? '';
      results[service] = await stop(service);
      assert.equal(results[service], 0, `${service} exited with ${results[service]}:\n${out}`);
    }
  });
});
