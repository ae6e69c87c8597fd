import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { pino } from 'pino';
import { Connection } from 'rabbitmq-client';
import { AmqpBroker, type ConsumerHandle, DEAD_LETTER_HEADERS, type InboundMessage, PermanentError } from '../src/index.ts';
import { deleteQueues, RABBITMQ_URL, silentLogger, uniqueName, waitFor } from './support.ts';

/** What only the RabbitMQ adapter can get wrong: bytes on the wire and queues someone else declared. */
describe('RabbitMQ adapter on the wire', () => {
  const raw = new Connection({ url: RABBITMQ_URL, retryLow: 100, retryHigh: 500 });
  const rawPublisher = raw.createPublisher({ confirm: true });
  const queues: string[] = [];
  const brokers: AmqpBroker[] = [];
  const consumers: ConsumerHandle[] = [];

  function broker(queueType: 'quorum' | 'classic', logger = silentLogger): AmqpBroker {
    const made = new AmqpBroker({ url: RABBITMQ_URL, logger, connectionName: 'wire-test', queueType });
    brokers.push(made);
    return made;
  }

  function name(label: string): string {
    const queue = uniqueName(label);
    queues.push(queue);
    return queue;
  }

  function collect(from: AmqpBroker, queue: string): InboundMessage[] {
    const seen: InboundMessage[] = [];
    consumers.push(
      from.consume({ queue, prefetch: 10 }, async (message) => {
        seen.push(message);
      }),
    );
    return seen;
  }

  /** A logger that keeps what was logged, to see what the adapter found. */
  function recordingLogger(): { logger: typeof silentLogger; lines: Record<string, unknown>[] } {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    return { logger, lines };
  }

  after(async () => {
    for (const consumer of consumers) await consumer.close();
    for (const made of brokers) await made.close().catch(() => undefined);
    await rawPublisher.close();
    await raw.close();
    await deleteQueues(queues);
  });

  const publishRaw = (queue: string, body: Buffer, contentType: string | undefined) =>
    rawPublisher.send({ routingKey: queue, durable: true, contentType }, body);

  test('bodies reach the handler as the exact bytes published, whatever the content type says', async () => {
    const amqp = broker('quorum');
    const queue = name('raw');
    await amqp.declareQueues([queue]);
    const invalidUtf8 = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    const jsonString = Buffer.from(JSON.stringify(JSON.stringify({ event_id: 'inside a string' })));
    const bigNumber = Buffer.from('{"count": 12345678901234567890, "n": 3e9}');
    const sent: [string | undefined, Buffer][] = [
      ['text/plain', invalidUtf8],
      ['application/json', jsonString],
      ['application/json', bigNumber],
      [undefined, invalidUtf8],
    ];
    const seen = collect(amqp, queue);
    for (const [type, body] of sent) await publishRaw(queue, body, type);
    await waitFor(() => seen.length === sent.length || undefined, 10_000, 'every message');
    for (const [index, [, body]] of sent.entries()) assert.deepEqual(seen[index]!.body, body, `message ${index}`);
  });

  for (const existing of ['classic', 'quorum'] as const) {
    const configured = existing === 'classic' ? 'quorum' : 'classic';
    test(`a ${existing} queue declared by someone else is used as it is by a broker configured for ${configured}`, async () => {
      const queue = name(`adopt-${existing}`);
      // The original declares its queues durable with no arguments at all (a classic queue).
      await raw.queueDeclare(existing === 'classic' ? { queue, durable: true } : { queue, durable: true, arguments: { 'x-queue-type': 'quorum' } });
      const { logger, lines } = recordingLogger();
      const amqp = broker(configured, logger);
      await amqp.declareQueues([queue]);
      const found = lines.find((line) => line['queue'] === queue);
      assert.equal(found?.['type'], existing, 'the type found is logged');
      assert.equal(found?.['configured_type'], configured);
      // The dead-letter queue did not exist: it is created with the configured type.
      assert.equal(lines.find((line) => line['queue'] === `${queue}.dlq`)?.['msg'], 'queue declared');

      const seen: InboundMessage[] = [];
      consumers.push(
        amqp.consume({ queue, prefetch: 5 }, async (message) => {
          if (message.body.toString() === 'poison') throw new PermanentError('AF_TEST_BAD', 'poison');
          seen.push(message);
        }),
      );
      const dead = collect(amqp, `${queue}.dlq`);
      await amqp.publish(queue, { body: { n: 1 }, messageId: 'a-1' });
      await amqp.publish(queue, { body: 'poison', messageId: 'a-2' });
      await waitFor(() => (seen.length === 1 && dead.length === 1) || undefined, 10_000, 'delivery and dead letter');
      assert.equal(dead[0]!.headers[DEAD_LETTER_HEADERS.code], 'AF_TEST_BAD');
      // A second declaration (another service, or after a reconnect) changes nothing either.
      await broker(configured).declareQueues([queue]);
      await raw.queueDeclare(existing === 'classic' ? { queue, durable: true } : { queue, durable: true, arguments: { 'x-queue-type': 'quorum' } });
    });
  }

  test('a queue with arguments of its own is used passively, never redeclared', async () => {
    const queue = name('adopt-other');
    await raw.queueDeclare({ queue, durable: true, arguments: { 'x-message-ttl': 600_000 } });
    const { logger, lines } = recordingLogger();
    const amqp = broker('quorum', logger);
    await amqp.declareQueues([queue]);
    assert.equal(lines.find((line) => line['queue'] === queue)?.['type'], 'other');
    const seen = collect(amqp, queue);
    await amqp.publish(queue, { body: 'kept' });
    await waitFor(() => seen.length === 1 || undefined, 10_000, 'delivery');
  });

  test('a queue that does not exist is created with the configured type', async () => {
    const queue = name('new');
    await broker('classic').declareQueues([queue]);
    // Equivalent to a classic declaration, refused for a quorum one.
    await raw.queueDeclare({ queue, durable: true, arguments: { 'x-queue-type': 'classic' } });
    await assert.rejects(raw.queueDeclare({ queue, durable: true, arguments: { 'x-queue-type': 'quorum' } }), /PRECONDITION_FAILED|inequivalent/);
  });
});
