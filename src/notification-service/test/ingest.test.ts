import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AmqpBroker, type ConsumerHandle, DEAD_LETTER_HEADERS, type InboundMessage } from '@auditflow/common';
import { deleteQueues, makeAlert, postgresDatabase, RABBITMQ_URL, silentLogger, type TestDatabase, waitFor } from './helpers.ts';
import { type Harness, startHarness } from './service-harness.ts';

/** Ingest end to end: real RabbitMQ in, real PostgreSQL out. */
describe('alert ingest (RabbitMQ -> PostgreSQL)', () => {
  let db: TestDatabase;
  let harness: Harness;
  let publisher: AmqpBroker;
  let dlqConsumer: ConsumerHandle;
  const deadLetters: InboundMessage[] = [];

  before(async () => {
    db = await postgresDatabase();
    const broker = new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'ingest-test', queueType: 'quorum' });
    harness = await startHarness(db, { broker });
    publisher = new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'ingest-test-pub', queueType: 'quorum' });
    await publisher.declareQueues([harness.queue]);
    dlqConsumer = publisher.consume({ queue: `${harness.queue}.dlq`, prefetch: 10 }, async (message) => {
      deadLetters.push(message);
    });
  });
  after(async () => {
    await harness.stop();
    await dlqConsumer.close();
    await publisher.close();
    await deleteQueues([harness.queue]);
    await db.drop();
  });

  const rowCount = async (id: string) =>
    (await db.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts WHERE alert_id = $1::uuid', [id])).rows[0]!.n;
  const row = async (id: string) => JSON.parse((await harness.handle.app.inject({ url: `/alerts/${id}` })).body);
  const metric = async (pattern: RegExp) => {
    const text = (await harness.handle.app.inject({ url: '/metrics' })).body;
    return Number(pattern.exec(text)?.[1] ?? 0);
  };

  test('a published alert is stored, with the original double-zone timestamp accepted', async () => {
    const alert = makeAlert({ timestamp: '2025-07-02T20:00:00+00:00Z' });
    await publisher.publish(harness.queue, { body: alert, messageId: alert.alert_id, correlationId: alert.correlation_id });
    await waitFor(async () => ((await rowCount(alert.alert_id)) === 1 ? true : undefined), 15_000, 'stored alert');
    const stored = await row(alert.alert_id);
    assert.equal(stored.timestamp, '2025-07-02T20:00:00.000000Z');
    assert.equal(stored.correlation_id, alert.correlation_id);
    assert.equal(stored.client_ip, '192.168.1.142');
  });

  test('a redelivered alert is stored once and counted as a duplicate', async () => {
    const before = await metric(/notification_alerts_ingested_total\{outcome="duplicate"[^}]*\} (\d+)/);
    const alert = makeAlert();
    for (let i = 0; i < 3; i++) await publisher.publish(harness.queue, { body: alert, messageId: alert.alert_id });
    await waitFor(
      async () => ((await metric(/notification_alerts_ingested_total\{outcome="duplicate"[^}]*\} (\d+)/)) - before >= 2 ? true : undefined),
      15_000,
      'duplicates counted',
    );
    assert.equal(await rowCount(alert.alert_id), 1);
  });

  test('the same alert id with a rising count updates the row (suppression) and keeps its status', async () => {
    const alert = makeAlert({ count: 3 });
    await publisher.publish(harness.queue, { body: alert, messageId: alert.alert_id });
    await waitFor(async () => ((await rowCount(alert.alert_id)) === 1 ? true : undefined), 15_000, 'first');
    await harness.handle.app.inject({
      method: 'PATCH',
      url: `/alerts/${alert.alert_id}`,
      headers: { authorization: 'Bearer test-token-0123456789abcdef' },
      payload: { status: 'acknowledged' },
    });
    const lastSeen = new Date(Date.parse(alert.timestamp) + 45_000).toISOString();
    await publisher.publish(harness.queue, { body: { ...alert, count: 7, last_seen: lastSeen }, messageId: alert.alert_id });
    await waitFor(async () => ((await row(alert.alert_id)).count === 7 ? true : undefined), 15_000, 'count raised');
    const stored = await row(alert.alert_id);
    assert.equal(stored.status, 'acknowledged');
    assert.equal(Date.parse(stored.last_seen), Date.parse(lastSeen));
    assert.equal(await rowCount(alert.alert_id), 1);
  });

  test('poison alerts are dead-lettered at once with the reason, and counted', async () => {
    const poison: { body: Buffer | string | object; reason: string }[] = [
      { body: 'not json at all', reason: 'invalid_json' },
      { body: Buffer.from([0xff, 0xfe, 0x7b]), reason: 'invalid_utf8' },
      { body: ['an', 'array'], reason: 'not_object' },
      { body: JSON.stringify(JSON.stringify(makeAlert())), reason: 'not_object' },
      { body: { ...makeAlert(), timestamp: undefined }, reason: 'schema' },
      { body: { ...makeAlert(), alert_id: 'not-a-uuid' }, reason: 'schema' },
      { body: { ...makeAlert(), alert_name: 'x'.repeat(300) }, reason: 'schema' },
      { body: { ...makeAlert(), timestamp: '0000-01-01T00:00:00Z' }, reason: 'rejected_by_database' },
    ];
    const marker = `poison-${Date.now()}`;
    for (const [index, item] of poison.entries()) {
      await publisher.publish(harness.queue, { body: item.body, messageId: `${marker}-${index}` });
    }
    await waitFor(
      () => (deadLetters.filter((m) => m.messageId?.startsWith(marker)).length === poison.length ? true : undefined),
      20_000,
      'dead letters',
    );
    for (const [index, item] of poison.entries()) {
      const letter = deadLetters.find((m) => m.messageId === `${marker}-${index}`)!;
      assert.equal(letter.headers[DEAD_LETTER_HEADERS.code], `AF_ALERT_${item.reason.toUpperCase()}`, `message ${index}`);
      assert.ok(String(letter.headers[DEAD_LETTER_HEADERS.reason]).length > 0);
      assert.equal(letter.headers[DEAD_LETTER_HEADERS.queue], harness.queue);
    }
    assert.ok((await metric(/notification_dead_letter_total\{reason="schema"[^}]*\} (\d+)/)) >= 3);
    assert.equal(await metric(/notification_dead_letter_total\{reason="not_object"[^}]*\} (\d+)/), 2);
    assert.equal(await metric(/notification_dead_letter_total\{reason="invalid_json"[^}]*\} (\d+)/), 1);
  });

  test('a burst is written in batches and every alert lands exactly once', async () => {
    const alerts = Array.from({ length: 600 }, () => makeAlert({ severity: 'BURST' }));
    await Promise.all(alerts.map((alert) => publisher.publish(harness.queue, { body: alert, messageId: alert.alert_id })));
    await waitFor(
      async () => {
        const { rows } = await db.admin.query<{ n: number }>("SELECT count(*)::int AS n FROM alerts WHERE severity = 'BURST'");
        return rows[0]!.n === alerts.length ? true : undefined;
      },
      30_000,
      'burst stored',
    );
    const batches = await metric(/notification_ingest_batch_size_count\{[^}]*\} (\d+)/);
    assert.ok(batches < 600, `batched (${batches} transactions)`);
  });
});
