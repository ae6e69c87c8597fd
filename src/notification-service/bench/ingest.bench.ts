/**
 * Ingest throughput: N alerts are published to a unique queue first, then one
 * notification-service process (a child, real RabbitMQ and PostgreSQL) drains
 * it. Prints alerts/s stored and the service's peak RSS.
 *   node --conditions=source src/notification-service/bench/ingest.bench.ts [count]
 */
import { randomUUID } from 'node:crypto';
import { AmqpBroker } from '@auditflow/common';
import { pino } from 'pino';
import { PostgresClient } from '../src/db/postgres-client.ts';
import { runMigrations } from '../src/db/migrations.ts';
import { backlogAlert } from '../../../tests/support/memory-drain.ts';
import {
  RABBITMQ_URL,
  round,
  rssMiB,
  schemaUrl,
  serviceCommand,
  startServiceProcess,
  uniqueSchema,
  withAdmin,
} from './bench-support.ts';

const COUNT = Number(process.argv[2] ?? 50_000);
const logger = pino({ level: 'silent' });
const schema = uniqueSchema('bench_ingest');
const queue = `bench-alerts-${randomUUID().slice(0, 8)}`;

await withAdmin((client) => client.query(`CREATE SCHEMA ${schema}`));
const migrator = new PostgresClient({ url: schemaUrl(schema), poolMax: 1, applicationName: 'bench-migrate', logger });
await runMigrations(migrator);
await migrator.close();

const publisher = new AmqpBroker({ url: RABBITMQ_URL, logger, connectionName: 'bench-publisher', queueType: 'quorum' });
await publisher.declareQueues([queue]);
const publishStarted = performance.now();
for (let i = 0; i < COUNT; i += 1000) {
  await Promise.all(
    Array.from({ length: Math.min(1000, COUNT - i) }, (_, j) => {
      const body = backlogAlert(i + j, COUNT, 'bench');
      return publisher.publish(queue, { body, messageId: body.alert_id, correlationId: body.correlation_id });
    }),
  );
}
const publishSeconds = (performance.now() - publishStarted) / 1000;

const service = await startServiceProcess({
  DATABASE_URL: schemaUrl(schema),
  RABBITMQ_URL,
  RABBITMQ_ALERT_QUEUE: queue,
});
const started = performance.now();
let stored = 0;
let peak = 0;
// Counting the rows is a sequential scan of a table that grows to ~200 MB; doing it every 50 ms
// from the start took a sizeable share of the 2 cores from the service under test. The broker's
// count of messages not yet handed out costs nothing to ask, and while it is above zero the rows
// cannot all be there yet: the table is only counted once the queue is empty. The end is still
// taken from the table, so the figure is alerts committed, not alerts received.
const { Connection } = await import('rabbitmq-client');
const watcher = new Connection(RABBITMQ_URL);
const checkTime = () => {
  if (performance.now() - started > 600_000) throw new Error(`only ${stored} of ${COUNT} stored after 10 minutes`);
};
try {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    peak = Math.max(peak, rssMiB(service.child.pid!).peak);
    checkTime();
    if ((await watcher.queueDeclare({ queue, passive: true })).messageCount === 0) break;
  }
} finally {
  await watcher.close();
}
await withAdmin(async (client) => {
  for (;;) {
    stored = (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts')).rows[0]!.n;
    peak = Math.max(peak, rssMiB(service.child.pid!).peak);
    if (stored >= COUNT) return;
    checkTime();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}, schemaUrl(schema));
const seconds = (performance.now() - started) / 1000;
peak = Math.max(peak, rssMiB(service.child.pid!).peak);

await service.stop();
await publisher.close();
const cleanup = new AmqpBroker({ url: RABBITMQ_URL, logger, connectionName: 'bench-cleanup', queueType: 'quorum' });
await cleanup.close();
await withAdmin(async (client) => {
  await client.query(`DROP SCHEMA ${schema} CASCADE`);
});
const connection = new Connection(RABBITMQ_URL);
await connection.queueDelete({ queue });
await connection.queueDelete({ queue: `${queue}.dlq` });
await connection.close();

console.log(
  JSON.stringify({
    benchmark: 'notification ingest',
    service_mode: serviceCommand().mode,
    alerts: COUNT,
    publish_alerts_per_s: round(COUNT / publishSeconds, 0),
    stored_alerts_per_s: round(COUNT / seconds, 0),
    // Baseline of the same run: how fast the broker took the same alerts in.
    ratio_stored_to_published: round(COUNT / seconds / (COUNT / publishSeconds), 2),
    seconds: round(seconds, 2),
    peak_rss_mib: round(peak),
    goal: { alerts_per_s: 10_000, rss_mib: 128 },
  }),
);
