/**
 * A 30,000-message backlog drained by one service started a documented way
 * inside a memory cgroup as tight as its chart's limit. Shared by the
 * cgroup test (tests/memory-limits.test.ts) and `npm run bench` (peak lines).
 * The backlog builders and the peak reader are shared with the ingest benches.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { generateEvent, seededRandom } from '@auditflow/audit-event-generator';
import { Redis } from 'ioredis';
import { Connection } from 'rabbitmq-client';
import { auditEventList } from '../../src/audit-ingest/test/samples.ts';
import { RABBITMQ_URL, REDIS_URL, uniqueName } from '../../src/common/test/support.ts';
import { type MemoryCgroup, createMemoryCgroup } from './cgroup.ts';
import { createTestDatabase } from './databases.ts';
import { freePort, REPO_ROOT, track, type RunningProcess } from './processes.ts';

export type DrainedService = 'audit-log-analysis' | 'notification-service' | 'audit-ingest' | 'auditflow';

/**
 * The README's ways to start a service: `npm start --workspace src/<svc>`
 * (after `npm run build`), what the image runs (`node dist/main.js` in the
 * service folder), `auditflow start --only <svc>`, and the all-in-one `npm start`.
 */
export type StartWay = 'npm-workspace' | 'image' | 'only' | 'npm-start';

export interface DrainResult {
  service: DrainedService;
  way: StartWay;
  limitMiB: number;
  total: number;
  drained: number;
  seconds: number;
  /** The cgroup's peak: every process in it (npm too, when npm started it), as the limit counts. */
  cgroupPeakMiB: number;
  /** The service's own node process, VmHWM. */
  servicePeakMiB: number;
  oomKills: number;
  exit: number | string | undefined;
  output: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function commandOf(service: DrainedService, way: StartWay): { command: string; args: string[]; cwd: string } {
  const node = `${REPO_ROOT}node_modules/.bin/node`;
  switch (way) {
    case 'npm-workspace':
      return { command: 'npm', args: ['start', '--silent', '--workspace', `src/${service}`], cwd: REPO_ROOT };
    case 'image':
      return { command: node, args: ['dist/main.js'], cwd: `${REPO_ROOT}src/${service}` };
    case 'only':
      return { command: node, args: ['src/auditflow/dist/cli.js', 'start', '--only', service], cwd: REPO_ROOT };
    case 'npm-start':
      return { command: 'npm', args: ['start', '--silent'], cwd: REPO_ROOT };
  }
}

/** The node process that runs the service: the deepest descendant of the started one named node. */
function servicePid(root: number): number | undefined {
  const children = (pid: number): number[] => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  let found: number | undefined;
  const visit = (pid: number) => {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node') found = pid;
    } catch {
      return;
    }
    for (const child of children(pid)) visit(child);
  };
  visit(root);
  return found;
}

/** A process's resident-memory high-water mark (VmHWM) in MiB; 0 once it is gone. */
export function vmHwm(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

async function metric(url: string, name: string): Promise<number> {
  try {
    const text = await (await fetch(url)).text();
    return [...text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\d+)`, 'gm'))]
      .filter((m) => name !== 'audit_analysis_events_total' || m[1]?.includes('outcome="ack"'))
      .reduce((sum, m) => sum + Number(m[2]), 0);
  } catch {
    return 0;
  }
}

const queueArgs = (queue: string) => ({ queue, durable: true, arguments: { 'x-queue-type': 'quorum' as const } });

async function fill(connection: Connection, queue: string, bodies: readonly Buffer[]): Promise<void> {
  await connection.queueDeclare(queueArgs(queue));
  const publisher = connection.createPublisher({ confirm: true, maxAttempts: 3 });
  for (let i = 0; i < bodies.length; i += 1000) {
    await Promise.all(
      bodies.slice(i, i + 1000).map((body) =>
        publisher.send({ exchange: '', routingKey: queue, durable: true, contentType: 'application/json', messageId: randomUUID() }, body),
      ),
    );
  }
  await publisher.close();
}

export function analysisEvents(total: number): Buffer[] {
  const random = seededRandom(42);
  const start = Date.now() - total * 10;
  return Array.from({ length: total }, (_, i) => Buffer.from(JSON.stringify(generateEvent(undefined, { random, clock: () => start + i * 10 }))));
}

/**
 * Alert i of a backlog of total, as the analysis service publishes it: five users on four
 * hosts, one in seven a warning, timestamps 10 ms apart ending now.
 */
export function backlogAlert(i: number, total: number, environment = 'test') {
  const user = ['devops_admin', 'app_user', 'guest_user', 'monitoring_agent', 'attacker_bob'][i % 5];
  const host = ['prod-web-01', 'prod-db-02', 'dev-api-03', 'test-worker-04'][i % 4];
  const eventId = randomUUID();
  return {
    alert_id: randomUUID(),
    correlation_id: eventId,
    timestamp: new Date(Date.now() - (total - i) * 10).toISOString(),
    alert_name: 'Multiple Failed Login Attempts',
    alert_type: 'SECURITY',
    severity: i % 7 === 0 ? 'WARNING' : 'CRITICAL',
    description: `3 or more failed login attempts for user '${user}' on '${host}' within 60 seconds.`,
    source_service_name: 'audit-event-generator',
    analysis_rule: { rule_id: 'ANLY-SEC-001', rule_name: 'Failed Login Burst Detection', rule_description: 'Detects 3 failed logins within 60 seconds.' },
    triggered_by: { actor_type: 'USER', actor_id: user, client_ip: `192.168.1.${100 + (i % 100)}` },
    impacted_resource: { resource_type: 'SERVER', resource_id: host, server_hostname: host },
    action_observed: 'LOGIN_FAILURE',
    raw_event_data: {
      event_id: eventId,
      timestamp: new Date().toISOString(),
      source_service: 'audit-event-generator',
      server_hostname: host,
      event_type: 'user_login',
      severity: 'WARNING',
      user_id: user,
      action_result: 'FAILURE',
      details: { reason: 'Incorrect password', ip_address: `192.168.1.${100 + (i % 100)}`, protocol: 'ssh' },
    },
    metadata: { tags: ['brute-force', 'authentication'], environment },
  };
}

function alertBodies(total: number): Buffer[] {
  return Array.from({ length: total }, (_, i) => Buffer.from(JSON.stringify(backlogAlert(i, total))));
}

/** Webhook bodies: EventLists of batch (the API server's default 400) ResponseComplete events, total in all. */
export function auditBodies(total: number, batch = 400): string[] {
  const template = (auditEventList(new Date(), 'dave').body['items'] as Record<string, unknown>[]).filter((e) => e['stage'] === 'ResponseComplete');
  const bodies: string[] = [];
  for (let n = 0; n < total; n += batch) {
    const items = Array.from({ length: Math.min(batch, total - n) }, (_, i) => ({ ...template[(n + i) % template.length]!, auditID: randomUUID() }));
    bodies.push(JSON.stringify({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', items }));
  }
  return bodies;
}

/** Posts every body to the audit webhook, four batches in flight as parallel API servers (or a retrying one) send them. */
export async function postAuditBatches(url: string, bodies: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (response.status !== 200) throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/**
 * Fills the backlog, starts the service in a fresh cgroup of limitMiB, waits
 * until it has drained (or died, or timeoutMs passed), stops it, cleans up.
 */
export async function drainUnderLimit(options: {
  service: DrainedService;
  way: StartWay;
  limitMiB: number;
  total?: number;
  timeoutMs?: number;
}): Promise<DrainResult> {
  const { service, way, limitMiB } = options;
  const total = options.total ?? 30_000;
  const base = uniqueName(`memdrain-${service}`);
  const connection = new Connection({ url: RABBITMQ_URL, retryLow: 100, retryHigh: 500 });
  const cleanups: (() => Promise<unknown>)[] = [];
  const [appPort, metricsPort, syslogPort] = [await freePort(), await freePort(), await freePort()];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? '/root',
    LOG_LEVEL: 'warn',
    RABBITMQ_URL,
  };
  let metricsUrl: string;
  let counter: string;
  let feed: (() => Promise<void>) | undefined;
  if (service === 'audit-log-analysis' || service === 'auditflow') {
    const queue = `${base}.events`;
    const alertQueue = `${base}.alerts`;
    await fill(connection, queue, analysisEvents(total));
    cleanups.push(() => connection.queueDelete({ queue }), () => connection.queueDelete({ queue: alertQueue }), () => connection.queueDelete({ queue: `${queue}.dlq` }));
    Object.assign(env, { REDIS_URL, REDIS_KEY_PREFIX: `${base}:`, RABBITMQ_QUEUE: queue, RABBITMQ_ALERT_QUEUE: alertQueue });
    cleanups.push(() => deleteKeys(`${base}:*`));
    if (service === 'auditflow') {
      const database = await createTestDatabase(base.replace(/[^a-z0-9]/gi, '_'));
      cleanups.push(database.drop);
      const ports = ['DASHBOARD_PORT', 'NOTIFICATION_PORT', 'GENERATOR_PORT', 'GENERATOR_METRICS_PORT', 'ANALYSIS_PORT', 'INGEST_PORT', 'INGEST_METRICS_PORT', 'SYSLOG_PORT'];
      for (const port of ports) env[port] = String(await freePort());
      Object.assign(env, { DATABASE_URL: database.url, ANALYSIS_METRICS_PORT: String(metricsPort), EVENTS_PER_SECOND: '0', SCENARIO_INTERVAL_SECONDS: '0' });
    } else {
      Object.assign(env, { APP_PORT: String(appPort), PROMETHEUS_PORT: String(metricsPort) });
    }
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    counter = 'audit_analysis_events_total';
  } else if (service === 'notification-service') {
    const queue = `${base}.alerts`;
    await fill(connection, queue, alertBodies(total));
    cleanups.push(() => connection.queueDelete({ queue }), () => connection.queueDelete({ queue: `${queue}.dlq` }));
    const database = await createTestDatabase(base.replace(/[^a-z0-9]/gi, '_'));
    cleanups.push(database.drop);
    Object.assign(env, { DATABASE_URL: database.url, RABBITMQ_ALERT_QUEUE: queue, API_PORT: String(appPort), RETENTION_DAYS: '0' });
    metricsUrl = `http://127.0.0.1:${appPort}/metrics`;
    counter = 'notification_alerts_ingested_total';
  } else {
    const queue = `${base}.events`;
    await connection.queueDeclare(queueArgs(queue));
    cleanups.push(() => connection.queueDelete({ queue }), () => connection.queueDelete({ queue: `${queue}.dlq` }));
    Object.assign(env, { RABBITMQ_QUEUE: queue, APP_PORT: String(appPort), PROMETHEUS_PORT: String(metricsPort), SYSLOG_PORT: String(syslogPort), INGEST_AUTH: 'none' });
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    counter = 'audit_ingest_events_published_total';
    const bodies = auditBodies(total);
    feed = () => postAuditBatches(`http://127.0.0.1:${appPort}/k8s/audit`, bodies);
  }

  const cgroup: MemoryCgroup = createMemoryCgroup(limitMiB);
  const { command, args, cwd } = commandOf(service, way);
  const run: RunningProcess = track(cgroup.spawn(command, args, { cwd, env }));
  let pid: number | undefined;
  let servicePeakMiB = 0;
  let drained = 0;
  const started = performance.now();
  let first = 0;
  let finished = 0;
  let result: DrainResult | undefined;
  try {
    const deadline = Date.now() + (options.timeoutMs ?? 240_000);
    let feeding: Promise<void> | undefined;
    while (Date.now() < deadline && run.child.exitCode === null && run.child.signalCode === null) {
      pid = servicePid(run.child.pid!) ?? pid;
      servicePeakMiB = Math.max(servicePeakMiB, vmHwm(pid));
      drained = await metric(metricsUrl, counter);
      if (drained > 0 && first === 0) first = performance.now();
      if (feed !== undefined && feeding === undefined && (await fetch(`http://127.0.0.1:${appPort}/readyz`).then((r) => r.ok, () => false))) {
        feeding = feed();
        feeding.catch(() => undefined);
      }
      if (drained >= total) break;
      await sleep(drained === 0 ? 50 : 250);
    }
    if (feeding !== undefined) await feeding;
    finished = performance.now();
    pid = servicePid(run.child.pid!) ?? pid;
    servicePeakMiB = Math.max(servicePeakMiB, vmHwm(pid));
  } finally {
    // The whole group: npm and the node it started.
    if (run.child.exitCode === null && run.child.signalCode === null) {
      try {
        process.kill(-run.child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const exit = await run.stop('SIGTERM', 20_000);
    await sleep(200);
    result = {
      service,
      way,
      limitMiB,
      total,
      drained,
      seconds: ((finished || performance.now()) - (first || started)) / 1000,
      cgroupPeakMiB: cgroup.peakMiB(),
      servicePeakMiB,
      oomKills: cgroup.oomKills(),
      exit,
      output: run.output(),
    };
    cgroup.remove();
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    await connection.close();
  }
  return result as DrainResult;
}

async function deleteKeys(pattern: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
}

