import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  AmqpBroker,
  type ConsumerHandle,
  ConsumerProgress,
  DEAD_LETTER_HEADERS,
  type InboundMessage,
  type MessageBroker,
  MemoryBroker,
  PermanentError,
  TransientError,
} from '../src/index.ts';
import { deleteQueues, RABBITMQ_URL, silentLogger, uniqueName, waitFor } from './support.ts';

/**
 * One suite, two adapters: this is what "the embedded broker has the same
 * delivery contract as RabbitMQ" means in practice.
 */
const adapters: { name: string; make: () => MessageBroker }[] = [
  { name: 'memory', make: () => new MemoryBroker({ logger: silentLogger }) },
  {
    name: 'rabbitmq',
    make: () =>
      new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'contract-test', queueType: 'quorum' }),
  },
  {
    // Classic queues (the original's) carry no broker-kept delivery count.
    name: 'rabbitmq-classic',
    make: () =>
      new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'contract-test', queueType: 'classic' }),
  },
];

/** Headers any publisher can set; none of them may count as deliveries or dead-letter reasons. */
const FORGED_HEADERS = {
  'x-delivery-count': 51,
  'x-death': 'forged',
  [DEAD_LETTER_HEADERS.deliveries]: 99,
  [DEAD_LETTER_HEADERS.code]: 'AF_FORGED',
  [DEAD_LETTER_HEADERS.reason]: 'forged reason',
  [DEAD_LETTER_HEADERS.queue]: 'forged-queue',
};

for (const adapter of adapters) {
  describe(`broker contract: ${adapter.name}`, () => {
    const queues: string[] = [];
    const brokers: MessageBroker[] = [];
    const consumers: ConsumerHandle[] = [];

    async function setup(): Promise<{ broker: MessageBroker; queue: string }> {
      const broker = adapter.make();
      brokers.push(broker);
      const queue = uniqueName('broker');
      queues.push(queue);
      await broker.declareQueues([queue]);
      return { broker, queue };
    }

    function collect(broker: MessageBroker, queue: string): InboundMessage[] {
      const seen: InboundMessage[] = [];
      consumers.push(
        broker.consume({ queue, prefetch: 10 }, async (message) => {
          seen.push(message);
        }),
      );
      return seen;
    }

    after(async () => {
      for (const consumer of consumers) await consumer.close();
      for (const broker of brokers) await broker.close().catch(() => undefined);
      if (adapter.name !== 'memory') await deleteQueues(queues);
    });

    test('a published message arrives with its body, ids and headers, then is acked once', async () => {
      const { broker, queue } = await setup();
      await broker.publish(queue, { body: { hello: 'world' }, messageId: 'm-1', correlationId: 'c-1', headers: { a: 'b' } });
      const seen: InboundMessage[] = [];
      const consumer = broker.consume({ queue, prefetch: 5 }, async (m) => {
        seen.push(m);
      });
      await waitFor(() => seen.length === 1 || undefined, 10_000, 'delivery');
      await consumer.close();
      const [message] = seen;
      assert.deepEqual(JSON.parse(message!.body.toString('utf8')), { hello: 'world' });
      assert.equal(message!.messageId, 'm-1');
      assert.equal(message!.correlationId, 'c-1');
      assert.equal(message!.headers['a'], 'b');
      assert.equal(message!.deliveryCount, 1);
      assert.equal(consumer.stats.acked, 1);
    });

    test('raw bytes reach the handler untouched, even when they are not UTF-8', async () => {
      const { broker, queue } = await setup();
      const bytes = Buffer.from([0xff, 0xfe, 0x7b, 0x00]);
      await broker.publish(queue, { body: bytes });
      const seen: InboundMessage[] = [];
      const consumer = broker.consume({ queue, prefetch: 1 }, async (m) => {
        seen.push(m);
      });
      await waitFor(() => seen.length === 1 || undefined);
      await consumer.close();
      assert.deepEqual(seen[0]!.body, bytes);
    });

    test('a permanent error dead-letters the message at once with its reason, without redelivery', async () => {
      const { broker, queue } = await setup();
      let calls = 0;
      const consumer = broker.consume({ queue, prefetch: 5 }, async () => {
        calls++;
        throw new PermanentError('AF_TEST_BAD', 'field x is wrong');
      });
      await broker.publish(queue, { body: 'poison', messageId: 'p-1' });
      const dead = collect(broker, `${queue}.dlq`);
      await waitFor(() => dead.length === 1 || undefined, 10_000, 'dead letter');
      await consumer.close();
      assert.equal(calls, 1);
      assert.equal(dead[0]!.body.toString(), 'poison');
      assert.equal(dead[0]!.messageId, 'p-1');
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.code], 'AF_TEST_BAD');
      assert.match(String(dead[0]!.headers[DEAD_LETTER_HEADERS.reason]), /field x is wrong/);
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.queue], queue);
      assert.equal(consumer.stats.deadLettered, 1);
    });

    test('a transient error is retried until it succeeds, and nothing is dead-lettered', async () => {
      const { broker, queue } = await setup();
      let calls = 0;
      const consumer = broker.consume({ queue, prefetch: 5 }, async () => {
        calls++;
        if (calls < 3) throw new TransientError('AF_TEST_DOWN', 'dependency down');
      });
      await broker.publish(queue, { body: 'x' });
      await waitFor(() => consumer.stats.acked === 1 || undefined, 10_000, 'ack after retries');
      await consumer.close();
      assert.equal(calls, 3);
      assert.equal(consumer.stats.deadLettered, 0);
    });

    test('an unexpected error is retried a bounded number of times, then dead-lettered', async () => {
      const { broker, queue } = await setup();
      let calls = 0;
      const consumer = broker.consume({ queue, prefetch: 5, maxAttempts: 3 }, async () => {
        calls++;
        throw new TypeError('bug');
      });
      await broker.publish(queue, { body: 'x' });
      const dead = collect(broker, `${queue}.dlq`);
      await waitFor(() => dead.length === 1 || undefined, 15_000, 'dead letter');
      await consumer.close();
      assert.equal(calls, 3);
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.code], 'AF_HANDLER_FAILED');
    });

    test('prefetch bounds the messages in flight', async () => {
      const { broker, queue } = await setup();
      for (let i = 0; i < 10; i++) await broker.publish(queue, { body: String(i) });
      let inFlight = 0;
      let peak = 0;
      let done = 0;
      const consumer = broker.consume({ queue, prefetch: 3 }, async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        done++;
      });
      await waitFor(() => done === 10 || undefined, 15_000, 'all handled');
      await consumer.close();
      assert.ok(peak <= 3, `peak in flight ${peak} exceeds prefetch 3`);
      assert.ok(peak >= 2, 'messages were not handled concurrently');
    });

    test('closing a consumer mid-retry requeues the message for the next consumer: nothing is lost', async () => {
      const { broker, queue } = await setup();
      let failing = 0;
      const first = broker.consume({ queue, prefetch: 1 }, async () => {
        failing++;
        throw new TransientError('AF_TEST_DOWN', 'still down');
      });
      await broker.publish(queue, { body: 'keep me', messageId: 'k-1' });
      await waitFor(() => failing >= 1 || undefined);
      await first.close();
      const seen = collect(broker, queue);
      await waitFor(() => seen.length === 1 || undefined, 10_000, 'redelivery');
      assert.equal(seen[0]!.messageId, 'k-1');
      assert.equal(seen[0]!.redelivered, true);
      assert.ok(seen[0]!.deliveryCount >= 2);
    });

    test('a message delivered more than maxDeliveries times is dead-lettered before the handler sees it, and onDeadLetter is told', async () => {
      const { broker, queue } = await setup();
      let attempts = 0;
      const first = broker.consume({ queue, prefetch: 1 }, async () => {
        attempts++;
        throw new TransientError('AF_TEST_DOWN', 'still down');
      });
      await broker.publish(queue, { body: 'crash loop', messageId: 'c-1' });
      await waitFor(() => attempts >= 1 || undefined);
      await first.close();
      const told: { id: string | undefined; code: string }[] = [];
      let handled = 0;
      const second = broker.consume(
        { queue, prefetch: 1, maxDeliveries: 1, onDeadLetter: (message, letter) => told.push({ id: message.messageId, code: letter.code }) },
        async () => {
          handled++;
        },
      );
      consumers.push(second);
      const dead = collect(broker, `${queue}.dlq`);
      await waitFor(() => dead.length === 1 || undefined, 10_000, 'dead letter');
      assert.equal(handled, 0);
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.code], 'AF_DELIVERY_LIMIT');
      await waitFor(() => told.length === 1 || undefined);
      assert.deepEqual(told, [{ id: 'c-1', code: 'AF_DELIVERY_LIMIT' }]);
    });

    test('onRetry is told of each failed attempt that is retried', async () => {
      const { broker, queue } = await setup();
      const retries: number[] = [];
      let calls = 0;
      consumers.push(
        broker.consume({ queue, prefetch: 1, onRetry: (_message, _error, attempt) => retries.push(attempt) }, async () => {
          calls++;
          if (calls < 3) throw new TransientError('AF_TEST_DOWN', 'not yet');
        }),
      );
      await broker.publish(queue, { body: 'retry me', messageId: 'r-1' });
      await waitFor(() => calls === 3 || undefined, 10_000, 'third attempt');
      assert.deepEqual(retries, [1, 2]);
    });

    test('forged delivery headers are not believed: the first delivery counts 1 and reaches the handler', async () => {
      const { broker, queue } = await setup();
      await broker.publish(queue, { body: 'valid', messageId: 'f-1', headers: FORGED_HEADERS });
      const seen: InboundMessage[] = [];
      const consumer = broker.consume({ queue, prefetch: 1, maxDeliveries: 10 }, async (m) => {
        seen.push(m);
      });
      consumers.push(consumer);
      await waitFor(() => consumer.stats.acked === 1 || undefined, 10_000, 'ack');
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.deliveryCount, 1);
      assert.equal(consumer.stats.deadLettered, 0);
    });

    test('a forged delivery count is not believed on a redelivery either', async () => {
      const { broker, queue } = await setup();
      let failing = 0;
      const first = broker.consume({ queue, prefetch: 1 }, async () => {
        failing++;
        throw new TransientError('AF_TEST_DOWN', 'down');
      });
      await broker.publish(queue, { body: 'valid again', messageId: 'f-2', headers: FORGED_HEADERS });
      await waitFor(() => failing >= 1 || undefined);
      await first.close();
      const seen: InboundMessage[] = [];
      const second = broker.consume({ queue, prefetch: 1, maxDeliveries: 3 }, async (m) => {
        seen.push(m);
      });
      consumers.push(second);
      await waitFor(() => second.stats.acked === 1 || undefined, 10_000, 'ack of the redelivery');
      assert.equal(seen[0]!.redelivered, true);
      assert.equal(seen[0]!.deliveryCount, 2);
      assert.equal(second.stats.deadLettered, 0);
    });

    test('a dead letter carries its own reason and count, not the forged ones', async () => {
      const { broker, queue } = await setup();
      consumers.push(
        broker.consume({ queue, prefetch: 1 }, async () => {
          throw new PermanentError('AF_TEST_BAD', 'really bad');
        }),
      );
      const dead = collect(broker, `${queue}.dlq`);
      await broker.publish(queue, { body: 'bad', messageId: 'f-3', headers: FORGED_HEADERS });
      await waitFor(() => dead.length === 1 || undefined, 10_000, 'dead letter');
      const headers = dead[0]!.headers;
      assert.equal(headers[DEAD_LETTER_HEADERS.code], 'AF_TEST_BAD');
      assert.equal(headers[DEAD_LETTER_HEADERS.reason], 'really bad');
      assert.equal(headers[DEAD_LETTER_HEADERS.queue], queue);
      assert.equal(headers[DEAD_LETTER_HEADERS.deliveries], 1);
    });

    test('batch: forged delivery headers are not believed', async () => {
      const { broker, queue } = await setup();
      await broker.publish(queue, { body: 'valid', messageId: 'fb-1', headers: FORGED_HEADERS });
      const seen: InboundMessage[] = [];
      const consumer = broker.consumeBatch({ queue, prefetch: 10, batchSize: 10, batchLingerMs: 5, maxDeliveries: 10 }, async (messages) => {
        seen.push(...messages);
        return undefined;
      });
      consumers.push(consumer);
      await waitFor(() => consumer.stats.acked === 1 || undefined, 10_000, 'ack');
      assert.equal(seen[0]!.deliveryCount, 1);
      assert.equal(consumer.stats.deadLettered, 0);
    });

    test('batch: deliveries arrive as batches of at most batchSize, in order, each acked once', async () => {
      const { broker, queue } = await setup();
      for (let i = 0; i < 25; i++) await broker.publish(queue, { body: String(i), messageId: `b-${i}` });
      const batches: string[][] = [];
      const consumer = broker.consumeBatch({ queue, prefetch: 20, batchSize: 10, batchLingerMs: 20 }, async (messages) => {
        batches.push(messages.map((m) => m.body.toString()));
        return undefined;
      });
      await waitFor(() => consumer.stats.acked === 25 || undefined, 10_000, 'all acked');
      await consumer.close();
      assert.ok(batches.every((batch) => batch.length <= 10), `a batch exceeds 10: ${batches.map((b) => b.length)}`);
      assert.ok(batches.some((batch) => batch.length > 1), 'nothing was batched');
      assert.deepEqual(batches.flat(), Array.from({ length: 25 }, (_, i) => String(i)));
      // Acked means settled: a new consumer finds nothing left.
      const again = collect(broker, queue);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(again.length, 0);
    });

    test('batch: a short batch is handed over after lingering, not held back', async () => {
      const { broker, queue } = await setup();
      const sizes: number[] = [];
      const consumer = broker.consumeBatch({ queue, prefetch: 100, batchSize: 100, batchLingerMs: 5 }, async (messages) => {
        sizes.push(messages.length);
        return undefined;
      });
      consumers.push(consumer);
      await broker.publish(queue, { body: 'alone' });
      await waitFor(() => consumer.stats.acked === 1 || undefined, 10_000, 'lone message');
      assert.deepEqual(sizes, [1]);
    });

    test('batch: one poison message is dead-lettered and one flaky message retried, without losing or repeating the others', async () => {
      const { broker, queue } = await setup();
      for (let i = 0; i < 8; i++) await broker.publish(queue, { body: String(i), messageId: `m-${i}` });
      const handled = new Map<string, number>();
      let flaky = 0;
      const consumer = broker.consumeBatch({ queue, prefetch: 20, batchSize: 8, batchLingerMs: 50 }, async (messages) => {
        const failures = new Map<InboundMessage, unknown>();
        for (const message of messages) {
          const body = message.body.toString();
          if (body === '3') failures.set(message, new PermanentError('AF_TEST_BAD', 'message 3 is poison'));
          else if (body === '5' && flaky++ < 2) failures.set(message, new TransientError('AF_TEST_DOWN', 'not yet'));
          else handled.set(body, (handled.get(body) ?? 0) + 1);
        }
        return failures;
      });
      const dead = collect(broker, `${queue}.dlq`);
      await waitFor(() => (consumer.stats.acked === 7 && dead.length === 1) || undefined, 10_000, 'settled');
      await consumer.close();
      assert.deepEqual([...handled.keys()].sort(), ['0', '1', '2', '4', '5', '6', '7']);
      assert.ok([...handled.values()].every((count) => count === 1), `a message was handled twice: ${[...handled]}`);
      assert.equal(dead[0]!.messageId, 'm-3');
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.code], 'AF_TEST_BAD');
      assert.deepEqual(consumer.stats, { acked: 7, deadLettered: 1, requeued: 0, retries: 2 });
    });

    test('batch: a whole batch that throws a bug is retried one by one, so only the poison message is dead-lettered', async () => {
      const { broker, queue } = await setup();
      for (let i = 0; i < 4; i++) await broker.publish(queue, { body: String(i), messageId: `w-${i}` });
      const handled: string[] = [];
      const consumer = broker.consumeBatch(
        { queue, prefetch: 10, batchSize: 4, batchLingerMs: 50, maxAttempts: 2 },
        async (messages) => {
          if (messages.some((m) => m.body.toString() === '2')) throw new TypeError('bug on 2');
          handled.push(...messages.map((m) => m.body.toString()));
          return undefined;
        },
      );
      const dead = collect(broker, `${queue}.dlq`);
      await waitFor(() => (dead.length === 1 && consumer.stats.acked === 3) || undefined, 15_000, 'settled');
      await consumer.close();
      assert.deepEqual(handled.sort(), ['0', '1', '3']);
      assert.equal(dead[0]!.messageId, 'w-2');
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.code], 'AF_HANDLER_FAILED');
    });

    test('batch: closing mid-retry requeues the failing messages only; a new consumer gets exactly those', async () => {
      const { broker, queue } = await setup();
      for (let i = 0; i < 4; i++) await broker.publish(queue, { body: String(i), messageId: `q-${i}` });
      let tries = 0;
      const first = broker.consumeBatch({ queue, prefetch: 10, batchSize: 4, batchLingerMs: 50 }, async (messages) => {
        tries++;
        const failures = new Map<InboundMessage, unknown>();
        for (const m of messages) if (m.body.toString() === '1') failures.set(m, new TransientError('AF_TEST_DOWN', 'down'));
        return failures;
      });
      await waitFor(() => tries >= 2 || undefined, 10_000, 'retrying');
      await first.close();
      assert.equal(first.stats.acked, 3);
      assert.equal(first.stats.requeued, 1);
      const seen = collect(broker, queue);
      await waitFor(() => seen.length === 1 || undefined, 10_000, 'redelivery');
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(
        seen.map((m) => m.messageId),
        ['q-1'],
      );
      assert.ok(seen[0]!.deliveryCount >= 2);
    });

    test('batch: messages over the delivery limit are dead-lettered before the handler sees them', async () => {
      const { broker, queue } = await setup();
      let attempts = 0;
      const first = broker.consume({ queue, prefetch: 1 }, async () => {
        attempts++;
        throw new TransientError('AF_TEST_DOWN', 'still down');
      });
      await broker.publish(queue, { body: 'looping', messageId: 'l-1' });
      await waitFor(() => attempts >= 1 || undefined);
      await first.close();
      await broker.publish(queue, { body: 'fresh', messageId: 'l-2' });
      const seen: string[] = [];
      const second = broker.consumeBatch({ queue, prefetch: 10, batchSize: 10, batchLingerMs: 50, maxDeliveries: 1 }, async (messages) => {
        seen.push(...messages.map((m) => m.messageId ?? ''));
        return undefined;
      });
      consumers.push(second);
      const dead = collect(broker, `${queue}.dlq`);
      await waitFor(() => (dead.length === 1 && second.stats.acked === 1) || undefined, 10_000, 'settled');
      assert.deepEqual(seen, ['l-2']);
      assert.equal(dead[0]!.messageId, 'l-1');
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.code], 'AF_DELIVERY_LIMIT');
    });

    test('per event: a message failing the same way while others settle is dead-lettered after poisonAttempts, whatever its error', async () => {
      const { broker, queue } = await setup();
      const progress = new ConsumerProgress();
      const consumer = broker.consume({ queue, prefetch: 10, poisonAttempts: 3, progress }, async (message) => {
        if (message.body.toString() === 'poison') throw new TransientError('AF_REDIS_UNAVAILABLE', 'looks like an outage, is not');
      });
      consumers.push(consumer);
      const dead = collect(broker, `${queue}.dlq`);
      await broker.publish(queue, { body: 'poison', messageId: 'e-0' });
      for (let i = 1; dead.length === 0 && i < 400; i++) {
        await broker.publish(queue, { body: `ok-${i}` });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await waitFor(() => dead.length === 1 || undefined, 10_000, 'the poison dead-lettered');
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.code], 'AF_HANDLER_FAILED');
      assert.match(String(dead[0]!.headers[DEAD_LETTER_HEADERS.reason]), /same way 3 times while other messages were processed/);
    });

    test('an outage that fails every message is retried as long as it lasts: nothing dead-lettered or requeued', async () => {
      const { broker, queue } = await setup();
      const progress = new ConsumerProgress();
      let down = true;
      let failures = 0;
      const consumer = broker.consumeBatch({ queue, prefetch: 20, batchSize: 5, batchLingerMs: 20, poisonAttempts: 2, maxDeliveries: 2, progress }, async () => {
        if (down) {
          failures++;
          throw new TransientError('AF_REDIS_UNAVAILABLE', 'Redis is down');
        }
        return undefined;
      });
      consumers.push(consumer);
      for (let i = 0; i < 5; i++) await broker.publish(queue, { body: `o-${i}` });
      await waitFor(() => failures >= 6 || undefined, 20_000, 'several failed rounds, isolated ones included');
      assert.ok(progress.stalledMs() > 0, 'the stall clock runs while the batch is held');
      down = false;
      await waitFor(() => consumer.stats.acked === 5 || undefined, 20_000, 'all acked after the outage');
      assert.equal(consumer.stats.deadLettered, 0);
      assert.equal(consumer.stats.requeued, 0);
      assert.equal(progress.stalledMs(), 0);
    });

    test('check() answers while connected', async () => {
      const { broker } = await setup();
      await broker.check();
      assert.equal(broker.isConnected() || adapter.name !== 'memory', true);
    });
  });
}
