/**
 * Drain benchmark (not a test): how fast does the analysis empty a backlog of
 * 100,000 mixed events, compared with a consumer that only acks, on the same
 * broker? The analysis runs as a child process so its memory can be read from
 * /proc. Goal (issue 21): >= 0.5 of the raw rate, on the default rules.
 *
 *   npm run bench --workspace src/audit-log-analysis      (BENCH_EVENTS=... to change the size)
 *
 * The script builds the package first and runs the child from dist/ as the
 * image does (BENCH_FROM_SOURCE=1 runs src/ through type stripping instead,
 * which costs about 35 MiB of RSS for the TypeScript transformer).
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateEvent, seededRandom } from '@auditflow/audit-event-generator';
import { Redis } from 'ioredis';
import { Connection, ConsumerStatus } from 'rabbitmq-client';
import { freePort, waitForHttp } from '../../../tests/support/processes.ts';
import { RABBITMQ_URL, REDIS_URL, uniqueName } from '../../common/test/support.ts';

const TOTAL = Number(process.env['BENCH_EVENTS'] ?? 100_000);
const PREFETCH = process.env['BENCH_PREFETCH'] ?? '200';
/** Empty by default: the service sizes its own heap from its memory budget, as it does in the image. */
const ANALYSIS_NODE_OPTIONS = process.env['ANALYSIS_NODE_OPTIONS'] ?? '';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const connection = new Connection({ url: RABBITMQ_URL, retryLow: 100, retryHigh: 500 });
const queueArgs = (queue: string) => ({ queue, durable: true, arguments: { 'x-queue-type': 'quorum' as const } });

/** The generator's seven templates, drawn as the original did, one event every 10 ms of event time. */
function buildBodies(): Buffer[] {
  const random = seededRandom(42);
  const start = Date.now() - TOTAL * 10;
  const bodies: Buffer[] = [];
  for (let i = 0; i < TOTAL; i++) {
    const at = start + i * 10;
    bodies.push(Buffer.from(JSON.stringify(generateEvent(undefined, { random, clock: () => at }))));
  }
  return bodies;
}

async function fill(queue: string, bodies: readonly Buffer[]): Promise<void> {
  await connection.queueDeclare(queueArgs(queue));
  const publisher = connection.createPublisher({ confirm: true, maxAttempts: 3 });
  const window = 1000;
  for (let i = 0; i < bodies.length; i += window) {
    await Promise.all(
      bodies.slice(i, i + window).map((body) =>
        publisher.send({ exchange: '', routingKey: queue, durable: true, contentType: 'application/json; charset=utf-8' }, body),
      ),
    );
  }
  await publisher.close();
}

async function rawDrain(queue: string): Promise<number> {
  let seen = 0;
  let started = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const consumer = connection.createConsumer(
    { queue, queueOptions: queueArgs(queue), qos: { prefetchCount: Number(PREFETCH) }, concurrency: Number(PREFETCH) },
    async () => {
      if (seen === 0) started = performance.now();
      if (++seen === TOTAL) resolveDone();
      return ConsumerStatus.ACK;
    },
  );
  await done;
  const seconds = (performance.now() - started) / 1000;
  await consumer.close();
  return TOTAL / seconds;
}

function memoryOf(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { hwm: kib('VmHWM') / 1024, rss: kib('VmRSS') / 1024 };
}

async function analysisDrain(queue: string, alertQueue: string, prefix: string): Promise<{ rate: number; hwm: number; rss: number }> {
  const fromDist = process.env['BENCH_FROM_SOURCE'] !== '1' && existsSync(`${ROOT}src/audit-log-analysis/dist/main.js`);
  const entry = fromDist ? ['src/audit-log-analysis/dist/main.js'] : ['--conditions=source', 'src/audit-log-analysis/src/main.ts'];
  console.log(`analysis child: NODE_OPTIONS='${ANALYSIS_NODE_OPTIONS}' node ${entry.join(' ')} (heap sized by the service itself)`);
  // BENCH_CHILD_ARGS passes node flags that NODE_OPTIONS refuses, such as --trace-gc.
  const childArgs = (process.env['BENCH_CHILD_ARGS'] ?? '').split(' ').filter(Boolean);
  const metricsPort = await freePort();
  const child = spawn(`${ROOT}node_modules/.bin/node`, [...childArgs, ...entry], {
    cwd: ROOT,
    env: {
      ...process.env,
      RABBITMQ_URL,
      REDIS_URL,
      RABBITMQ_QUEUE: queue,
      RABBITMQ_ALERT_QUEUE: alertQueue,
      RABBITMQ_PREFETCH: PREFETCH,
      REDIS_KEY_PREFIX: prefix,
      APP_PORT: '0',
      PROMETHEUS_PORT: String(metricsPort),
      LOG_LEVEL: 'warn',
      NODE_OPTIONS: ANALYSIS_NODE_OPTIONS,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  child.stdout.setEncoding('utf8');
  // BENCH_CHILD_LOG=<file> keeps the child's stdout (for --trace-gc and the like).
  const childLog = process.env['BENCH_CHILD_LOG'] ? createWriteStream(process.env['BENCH_CHILD_LOG']) : undefined;
  child.stdout.on('data', (chunk: string) => childLog?.write(chunk));
  const acked = async (): Promise<number> => {
    const text = await (await fetch(metricsUrl)).text();
    return Number(/audit_analysis_events_total\{outcome="ack",service="audit-log-analysis"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  await waitForHttp(metricsUrl, 20_000);
  let first = 0;
  for (;;) {
    const count = await acked();
    if (count > 0 && first === 0) first = performance.now();
    if (count >= TOTAL) break;
    // Scrapes cost the child CPU (default metrics), so poll gently.
    await new Promise((resolve) => setTimeout(resolve, count === 0 ? 10 : 250));
  }
  const seconds = (performance.now() - first) / 1000;
  const memory = memoryOf(child.pid!);
  const text = await (await fetch(metricsUrl)).text();
  // What the drain produced, so the alert volume behind the rate is visible.
  const published = [...text.matchAll(/^audit_analysis_alerts_published_total\{([^}]*)\} (\d+)/gm)]
    .map(([, labels, value]) => `${/rule_id="([^"]+)"/.exec(labels ?? '')?.[1]}/${/kind="([^"]+)"/.exec(labels ?? '')?.[1]}=${value}`)
    .join(' ');
  const matches = [...text.matchAll(/^audit_analysis_rule_matches_total\{([^}]*)\} (\d+)/gm)]
    .map(([, labels, value]) => `${/rule_id="([^"]+)"/.exec(labels ?? '')?.[1]}=${value}`)
    .join(' ');
  console.log(`rule matches: ${matches}`);
  console.log(`alert publishes by rule/kind: ${published}`);
  const gauge = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)`, 'm').exec(text)?.[1] ?? 0) / 1048576;
  console.log(
    `analysis heap after the drain: total ${gauge('nodejs_heap_size_total_bytes').toFixed(1)} MiB, used ${gauge('nodejs_heap_size_used_bytes').toFixed(1)} MiB, external ${gauge('nodejs_external_memory_bytes').toFixed(1)} MiB`,
  );
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
  return { rate: TOTAL / seconds, ...memory };
}


async function main(): Promise<void> {
  const base = uniqueName('bench');
  const rawQueue = `${base}.raw`;
  const eventsQueue = `${base}.events`;
  const alertQueue = `${base}.alerts`;
  const prefix = `${base}:`;
  try {
    console.log(`building ${TOTAL} events from the generator's templates`);
    const bodies = buildBodies();
    console.log('filling the raw queue');
    await fill(rawQueue, bodies);
    const raw = await rawDrain(rawQueue);
    console.log(`raw consumer (ack only, prefetch ${PREFETCH}): ${Math.round(raw)} events/s`);
    console.log('filling the analysis queue');
    await fill(eventsQueue, bodies);
    const analysis = await analysisDrain(eventsQueue, alertQueue, prefix);
    const alerts = await connection.queueDeclare({ queue: alertQueue, passive: true });
    console.log(`analysis: ${Math.round(analysis.rate)} events/s, ${alerts.messageCount} alert messages (${(alerts.messageCount / TOTAL).toFixed(3)} per event)`);
    console.log(`ratio analysis/raw: ${(analysis.rate / raw).toFixed(2)}`);
    console.log(`analysis memory: VmHWM ${analysis.hwm.toFixed(1)} MiB, VmRSS ${analysis.rss.toFixed(1)} MiB`);
    const goals = [
      [`analysis vs raw: >= 0.5 of the raw ack-only consumer (${(analysis.rate / raw).toFixed(2)})`, analysis.rate / raw >= 0.5],
    ] as const;
    for (const [goal, met] of goals) console.log(`${met ? 'MET   ' : 'MISSED'} ${goal}`);
  } finally {
    for (const queue of [rawQueue, eventsQueue, alertQueue]) {
      await connection.queueDelete({ queue }).catch(() => undefined);
      await connection.queueDelete({ queue: `${queue}.dlq` }).catch(() => undefined);
    }
    await connection.close();
    const redis = new Redis(REDIS_URL);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await redis.quit();
  }
}

await main();
