import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AmqpBroker, type ConsumerHandle, DEAD_LETTER_HEADERS, type InboundMessage } from '@auditflow/common';
import { Connection } from 'rabbitmq-client';
import { deleteQueues, makeAlert, postgresDatabase, RABBITMQ_URL, silentLogger, type TestDatabase, uniqueName, waitFor } from './helpers.ts';
import { type Harness, startHarness } from './service-harness.ts';

/** Headers any producer can set; none may count as deliveries. */
const FORGED = { 'x-delivery-count': 51, 'x-death': 'forged', 'x-af-delivery-count': 99, 'x-af-error-code': 'AF_FORGED' };

/** The alert queue as the original left it, real RabbitMQ in and real PostgreSQL out. */
for (const existing of ['classic', 'quorum'] as const) {
  const configured = existing === 'classic' ? 'quorum' : 'classic';
  describe(`notification ingest from a ${existing} queue declared first (configured for ${configured})`, () => {
    const queue = uniqueName(`wire-${existing}`);
    const raw = new Connection({ url: RABBITMQ_URL, retryLow: 100, retryHigh: 500 });
    let db: TestDatabase;
    let harness: Harness;
    let publisher: AmqpBroker;
    let dlqConsumer: ConsumerHandle;
    const deadLetters: InboundMessage[] = [];

    before(async () => {
      // The original declares audit_alerts durable with no arguments (a classic queue).
      await raw.queueDeclare(existing === 'classic' ? { queue, durable: true } : { queue, durable: true, arguments: { 'x-queue-type': 'quorum' } });
      db = await postgresDatabase();
      const broker = new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'wire-test', queueType: configured });
      harness = await startHarness(db, { broker, env: { RABBITMQ_ALERT_QUEUE: queue } });
      publisher = new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'wire-test-pub', queueType: configured });
      await publisher.declareQueues([queue]);
      dlqConsumer = publisher.consume({ queue: `${queue}.dlq`, prefetch: 10 }, async (message) => {
        deadLetters.push(message);
      });
    });
    after(async () => {
      await harness.stop();
      await dlqConsumer.close();
      await publisher.close();
      await raw.close();
      await deleteQueues([queue]);
      await db.drop();
    });

    const row = async (id: string) => {
      const response = await harness.handle.app.inject({ url: `/alerts/${id}` });
      return response.statusCode === 200 ? JSON.parse(response.body) : undefined;
    };
    const metric = async (pattern: RegExp) => Number(pattern.exec((await harness.handle.app.inject({ url: '/metrics' })).body)?.[1] ?? 0);
    const deadLetterOf = (id: string) => waitFor(() => deadLetters.find((m) => m.messageId === id), 15_000, `dead letter ${id}`);

    test('alerts with forged delivery headers are stored', async () => {
      const alert = makeAlert();
      await publisher.publish(queue, { body: alert, messageId: alert.alert_id, headers: FORGED });
      await waitFor(() => row(alert.alert_id), 15_000, 'stored alert');
      assert.equal(deadLetters.filter((m) => m.messageId === alert.alert_id).length, 0);
    });

    test('nothing is altered silently: each value is refused with its reason or kept as sent, and counted', async () => {
      // A count beyond the table's 32-bit column is refused (it used to be stored as 2147483647).
      const huge = makeAlert({ count: 3e9 });
      // NUL cannot be stored in TEXT or JSONB (it used to be stripped), nor can an unpaired surrogate.
      const nul = makeAlert({ description: 'bad\u0000byte' });
      const surrogate = makeAlert({ raw_event_data: { event_id: 'x', details: { command: 'ok\ud800' } } });
      // Not an address: stored, the INET column NULL and the text kept in triggered_by_details (it used to vanish).
      const odd = makeAlert({ triggered_by: { actor_type: 'USER', actor_id: 'bob', client_ip: 'not-an-ip' } });
      const schemaBefore = await metric(/notification_dead_letter_total\{reason="schema"[^}]*\} (\d+)/);
      for (const alert of [huge, nul, surrogate, odd]) await publisher.publish(queue, { body: alert, messageId: alert.alert_id });

      const hugeLetter = await deadLetterOf(huge.alert_id);
      assert.equal(hugeLetter.headers[DEAD_LETTER_HEADERS.code], 'AF_ALERT_SCHEMA');
      assert.match(String(hugeLetter.headers[DEAD_LETTER_HEADERS.reason]), /count/);
      for (const [alert, where] of [
        [nul, '/description'],
        [surrogate, '/raw_event_data/details/command'],
      ] as const) {
        const letter = await deadLetterOf(alert.alert_id);
        assert.equal(letter.headers[DEAD_LETTER_HEADERS.code], 'AF_ALERT_UNSTORABLE');
        assert.match(String(letter.headers[DEAD_LETTER_HEADERS.reason]), new RegExp(where));
        assert.deepEqual(JSON.parse(letter.body.toString('utf8')), JSON.parse(JSON.stringify(alert)), 'the dead letter is the alert as sent');
        assert.equal(await row(alert.alert_id), undefined);
      }
      const stored = await waitFor(() => row(odd.alert_id), 15_000, 'the alert with an odd client_ip');
      assert.equal(stored.client_ip, null);
      assert.equal(stored.triggered_by_details.client_ip, 'not-an-ip');
      assert.equal(await row(huge.alert_id), undefined);

      assert.equal((await metric(/notification_dead_letter_total\{reason="schema"[^}]*\} (\d+)/)) - schemaBefore, 1);
      assert.equal(await metric(/notification_dead_letter_total\{reason="unstorable"[^}]*\} (\d+)/), 2);
      assert.equal(await metric(/notification_alert_values_outside_column_total\{field="client_ip"[^}]*\} (\d+)/), 1);
    });

    test("the original's own 'N/A' is its way of saying no address: NULL, not counted", async () => {
      const alert = makeAlert({ triggered_by: { actor_type: 'USER', actor_id: 'bob', client_ip: 'N/A' } });
      const before = await metric(/notification_alert_values_outside_column_total\{field="client_ip"[^}]*\} (\d+)/);
      await publisher.publish(queue, { body: alert, messageId: alert.alert_id });
      const stored = await waitFor(() => row(alert.alert_id), 15_000, 'stored alert');
      assert.equal(stored.client_ip, null);
      assert.equal(await metric(/notification_alert_values_outside_column_total\{field="client_ip"[^}]*\} (\d+)/), before);
    });
  });
}
