/**
 * Outbox delivery rate: N alerts are stored with the outbox planner (one webhook delivery each,
 * `group_by: [alert_id]`), then one DeliveryWorker drains the outbox on real PostgreSQL into a
 * local webhook receiver. The baseline, in the same run and against the same receiver, is the
 * receiver's raw rate: the same signed bodies POSTed with the same concurrency, no outbox.
 *   node --conditions=source src/notification-service/bench/delivery.bench.ts [count]
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { createRegistry } from '@auditflow/common';
import { pino } from 'pino';
import { PostgresClient } from '../src/db/postgres-client.ts';
import { createDeliveryPlanner } from '../src/delivery/delivery-planner.ts';
import { DeliveryWorker } from '../src/delivery/delivery-worker.ts';
import { createSenders } from '../src/delivery/outputs/senders.ts';
import { signWebhook } from '../src/delivery/outputs/webhook-sender.ts';
import { parseOutputsConfig } from '../src/delivery/outputs-config.ts';
import { createNotificationMetrics } from '../src/metrics.ts';
import { toAlertRecord } from '../src/store/alert-record.ts';
import { SqlAlertStore } from '../src/store/sql-alert-store.ts';
import { round, schemaUrl, uniqueSchema, withAdmin } from './bench-support.ts';

const COUNT = Number(process.argv[2] ?? 3000);
const BATCH = 100;
const logger = pino({ level: 'silent' });
const schema = uniqueSchema('bench_outbox');

let received = 0;
const receiver = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    received++;
    response.writeHead(200).end('ok');
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const address = receiver.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/hook`;

function alert(i: number) {
  return toAlertRecord({
    alert_id: randomUUID(),
    correlation_id: randomUUID(),
    timestamp: new Date(Date.now() - (COUNT - i) * 10).toISOString(),
    alert_name: 'Multiple Failed Login Attempts',
    alert_type: 'SECURITY',
    severity: 'CRITICAL',
    description: `3 or more failed login attempts for user 'user${i % 50}' on 'prod-web-0${i % 4}' within 60 seconds.`,
    source_service_name: 'audit-event-generator',
    analysis_rule: { rule_id: 'ANLY-SEC-001', rule_name: 'Failed Login Burst Detection' },
    triggered_by: { actor_type: 'USER', actor_id: `user${i % 50}`, client_ip: '192.168.1.142' },
    impacted_resource: { resource_type: 'SERVER', resource_id: `prod-web-0${i % 4}`, server_hostname: `prod-web-0${i % 4}` },
    action_observed: 'LOGIN_FAILURE',
    raw_event_data: { event_id: randomUUID() },
    metadata: { environment: 'bench' },
  });
}

/** The receiver's own ceiling: signed bodies of the same size, BATCH requests in flight, no database. */
async function rawRate(): Promise<number> {
  const body = JSON.stringify({ version: '1', alerts: [{ alert: alert(0) }] });
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: BATCH }, async () => {
      while (next++ < COUNT) {
        const timestamp = Math.floor(Date.now() / 1000);
        const response = await fetch(url, {
          method: 'POST',
          body,
          headers: { 'content-type': 'application/json', 'x-auditflow-signature': signWebhook('bench', timestamp, body) },
        });
        await response.text();
      }
    }),
  );
  return COUNT / ((performance.now() - start) / 1000);
}

await withAdmin((client) => client.query(`CREATE SCHEMA ${schema}`));
const client = new PostgresClient({ url: schemaUrl(schema), poolMax: 4, applicationName: 'bench-outbox', logger });
const store = await SqlAlertStore.open(client, logger);
try {
  await store.migrate();
  process.env.BENCH_WEBHOOK_SECRET = 'bench';
  const outputs = parseOutputsConfig(
    `outputs:\n  - { name: hook, type: webhook, url: "${url}", secret: { env: BENCH_WEBHOOK_SECRET } }\nroute:\n  receiver: hook\n  group_by: [alert_id]\n  group_wait: 0s\n`,
    'bench.yaml',
    process.env,
  );
  store.setDeliveryPlanner(createDeliveryPlanner(outputs, () => undefined));
  for (let i = 0; i < COUNT; i += 500) {
    await store.upsertAlerts(Array.from({ length: Math.min(500, COUNT - i) }, (_, j) => alert(i + j)));
  }

  const raw = await rawRate();
  received = 0;
  const senders = createSenders(outputs.outputs.values());
  const worker = new DeliveryWorker({
    outbox: store.outbox,
    silences: store.silences,
    senders,
    policy: outputs.delivery,
    logger,
    metrics: createNotificationMetrics(createRegistry('bench')),
    leaseMs: 60_000,
    pollMs: 1000,
    batchSize: BATCH,
  });
  const start = performance.now();
  while ((await worker.runOnce()) > 0) {
    // Rounds back to back: the rate of the outbox itself, not of the idle poll.
  }
  const seconds = (performance.now() - start) / 1000;
  senders.close();
  const pending = await store.outbox.countPending();
  if (received !== COUNT || pending !== 0) throw new Error(`expected ${COUNT} deliveries, receiver got ${received}, ${pending} pending`);
  const rate = COUNT / seconds;
  console.log(
    JSON.stringify({
      bench: 'delivery',
      deliveries: COUNT,
      claim_batch: BATCH,
      outbox_deliveries_per_s: round(rate),
      receiver_raw_requests_per_s: round(raw),
      ratio_vs_raw: round(rate / raw, 2),
    }),
  );
} finally {
  await store.close();
  await withAdmin((admin) => admin.query(`DROP SCHEMA ${schema} CASCADE`));
  receiver.close();
}
