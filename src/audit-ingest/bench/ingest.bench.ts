/**
 * Ingest benchmark (not a test): how fast does one audit-ingest process turn
 * syslog lines (TCP, RFC 5424, octet counting) and Kubernetes audit events
 * (webhook EventLists of 400, the API server's default batch size) into
 * confirmed messages on RabbitMQ, beside the raw rate at which this machine's
 * broker confirms publishes of the same events in the same run? The service
 * runs as a child process from dist/ as the image does, so its memory is its
 * own. Goals: >= 20,000 lines/s (issue 12); Kubernetes path >= 0.6 of raw publishes and peak RSS
 * within the chart limit (issue 21).
 *
 *   npm run bench -- audit-ingest        (BENCH_LINES=..., BENCH_AUDIT_EVENTS=... to change the size)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { AmqpBroker, SERVICE_MEMORY_LIMIT_MIB } from '@auditflow/common';
import { auditBodies, postAuditBatches, vmHwm } from '../../../tests/support/memory-drain.ts';
import { freePort, waitForHttp } from '../../../tests/support/processes.ts';
import { RABBITMQ_URL, uniqueName } from '../../common/test/support.ts';
import { Normaliser } from '../src/normalise/normaliser.ts';
import { ZoneOffset } from '../src/normalise/syslog-parser.ts';
import { linuxLines, octetCounted, rfc5424 } from '../test/samples.ts';

const LINES = Number(process.env['BENCH_LINES'] ?? 200_000);
const AUDIT_EVENTS = Number(process.env['BENCH_AUDIT_EVENTS'] ?? 40_000);
const BATCH = 400;
/** Empty by default: the service sizes its own heap, as in the image. */
const NODE_OPTIONS = process.env['INGEST_NODE_OPTIONS'] ?? '';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Realistic lines: the samples' sshd/sudo/useradd lines (mapped events) and a share of lines that are ignored. */
function syslogPayload(): Buffer {
  const sample = linuxLines({ brute: '203.0.113.7', spray: '198.51.100.23', admin: '192.0.2.10' });
  const parts: string[] = [];
  const at = new Date();
  for (let i = 0; i < LINES; i++) parts.push(octetCounted(rfc5424(sample[i % sample.length]!, `pi-${i % 5}`, at)));
  return Buffer.from(parts.join(''));
}

/** The baseline: the same normalised events published straight through the broker adapter, 1,000 in flight. */
async function rawPublishRate(queue: string): Promise<number> {
  const broker = new AmqpBroker({ url: RABBITMQ_URL, logger: pino({ level: 'silent' }), connectionName: 'ingest-bench-raw', queueType: 'quorum' });
  await broker.declareQueues([queue]);
  const normaliser = new Normaliser({ clusterName: 'bench', zone: new ZoneOffset('UTC') });
  const sample = linuxLines({ brute: '203.0.113.7', spray: '198.51.100.23', admin: '192.0.2.10' });
  const meta = { kind: 'syslog' as const, transport: 'tcp', peer: '127.0.0.1:1' };
  const events = [];
  for (let i = 0; events.length < Math.min(LINES, 100_000); i++) {
    const item = normaliser.syslog(Buffer.from(rfc5424(sample[i % sample.length]!, 'pi-raw', new Date())), meta);
    if (item.kind === 'event') events.push(item.event);
  }
  const started = performance.now();
  for (let i = 0; i < events.length; i += 1000) {
    await Promise.all(events.slice(i, i + 1000).map((event) => broker.publish(queue, { body: event, messageId: event.event_id })));
  }
  const rate = events.length / ((performance.now() - started) / 1000);
  await broker.close();
  return rate;
}

/** The service's own ceiling without a broker: every line of the payload through the normaliser. */
function normaliseOnly(): number {
  const normaliser = new Normaliser({ clusterName: 'bench', zone: new ZoneOffset('UTC') });
  const sample = linuxLines({ brute: '203.0.113.7', spray: '198.51.100.23', admin: '192.0.2.10' });
  const frames = sample.map((line) => Buffer.from(rfc5424(line, 'pi-n', new Date())));
  const meta = { kind: 'syslog' as const, transport: 'tcp', peer: '127.0.0.1:1' };
  const count = Math.min(LINES, 100_000);
  const started = performance.now();
  for (let i = 0; i < count; i++) normaliser.syslog(frames[i % frames.length]!, meta);
  return count / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const base = uniqueName('bench-ingest');
  const rawQueue = `${base}.raw`;
  const queue = `${base}.events`;
  const [appPort, metricsPort, syslogPort] = [await freePort(), await freePort(), await freePort()];
  const fromDist = existsSync(`${ROOT}src/audit-ingest/dist/main.js`);
  const entry = fromDist ? ['src/audit-ingest/dist/main.js'] : ['--conditions=source', 'src/audit-ingest/src/main.ts'];
  console.log(`building ${LINES} syslog lines and ${AUDIT_EVENTS} audit events`);
  const payload = syslogPayload();
  const bodies = auditBodies(AUDIT_EVENTS, BATCH);
  const normaliseRate = normaliseOnly();
  console.log(`normalisation alone (parse, map, validate; this process): ${Math.round(normaliseRate)} lines/s`);
  const raw = await rawPublishRate(rawQueue);
  console.log(`raw publish (broker adapter, confirms, 1000 in flight): ${Math.round(raw)} events/s`);

  console.log(`ingest child: NODE_OPTIONS='${NODE_OPTIONS}' node ${entry.join(' ')}`);
  const child = spawn(`${ROOT}node_modules/.bin/node`, entry, {
    cwd: ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      RABBITMQ_URL,
      RABBITMQ_QUEUE: queue,
      APP_PORT: String(appPort),
      PROMETHEUS_PORT: String(metricsPort),
      SYSLOG_PORT: String(syslogPort),
      INGEST_AUTH: 'none',
      LOG_LEVEL: 'warn',
      NODE_OPTIONS,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  const counted = async (): Promise<{ received: number; published: number }> => {
    const text = await (await fetch(metricsUrl)).text();
    const sum = (name: string) => [...text.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
    return { received: sum('audit_ingest_records_received_total'), published: sum('audit_ingest_events_published_total') };
  };
  try {
    await waitForHttp(`http://127.0.0.1:${appPort}/readyz`, 20_000);
    // Syslog: one TCP connection, as one rsyslog forwarder holds it.
    const syslogStart = performance.now();
    await new Promise<void>((resolve, reject) => {
      const socket = connect(syslogPort, '127.0.0.1', () => socket.end(payload));
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });
    for (;;) {
      if ((await counted()).received >= LINES) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const syslogSeconds = (performance.now() - syslogStart) / 1000;
    const afterSyslog = await counted();
    const lineRate = LINES / syslogSeconds;
    console.log(`syslog: ${Math.round(lineRate)} lines/s (${afterSyslog.published} events published, the rest ignored by design); VmHWM so far ${vmHwm(child.pid).toFixed(1)} MiB`);

    // Audit: 4 webhook batches in flight, as parallel API servers (or a retrying one) would send.
    const auditStart = performance.now();
    await postAuditBatches(`http://127.0.0.1:${appPort}/k8s/audit`, bodies);
    const auditRate = AUDIT_EVENTS / ((performance.now() - auditStart) / 1000);
    console.log(`k8s audit: ${Math.round(auditRate)} events/s (answered 200 after every confirm)`);
    const hwm = vmHwm(child.pid);
    console.log(`ratio syslog events published/raw: ${((afterSyslog.published / syslogSeconds) / raw).toFixed(2)}, audit/raw: ${(auditRate / raw).toFixed(2)}`);
    console.log(`ingest memory: VmHWM ${hwm.toFixed(1)} MiB`);
    for (const [goal, met] of [
      ['>= 20000 syslog lines/s', lineRate >= 20_000],
      [`ingest vs raw: Kubernetes audit path >= 0.6 of raw confirmed publishes (${(auditRate / raw).toFixed(2)})`, auditRate / raw >= 0.6],
      [`peak RSS <= ${SERVICE_MEMORY_LIMIT_MIB['audit-ingest']} MiB, the chart limit (${hwm.toFixed(1)} MiB)`, hwm <= SERVICE_MEMORY_LIMIT_MIB['audit-ingest']],
    ] as const) {
      console.log(`${met ? 'MET   ' : 'MISSED'} ${goal}`);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    const { Connection } = await import('rabbitmq-client');
    const connection = new Connection({ url: RABBITMQ_URL });
    for (const name of [rawQueue, queue]) {
      await connection.queueDelete({ queue: name }).catch(() => undefined);
      await connection.queueDelete({ queue: `${name}.dlq` }).catch(() => undefined);
    }
    await connection.close();
  }
}

await main();
