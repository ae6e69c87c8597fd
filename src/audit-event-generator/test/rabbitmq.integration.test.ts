import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AmqpBroker, assertAuditEvent, type AuditEvent } from '@auditflow/common';
import { Connection } from 'rabbitmq-client';
import { type GeneratorHandle, publishScenario, SOURCE_SERVICES } from '../src/index.ts';
import { deleteQueues, RABBITMQ_URL, silentLogger, uniqueName, waitFor } from '../../common/test/support.ts';
import { startTestGenerator } from './helpers.ts';

interface Received {
  event: AuditEvent;
  messageId: string | undefined;
  correlationId: string | undefined;
}

/** Reads what the real broker holds, independently of the generator's own client. */
class QueueReader {
  readonly #connection = new Connection({ url: RABBITMQ_URL, retryLow: 100, retryHigh: 500 });

  /** Declares a queue as another service would: classic as the original does (durable, no arguments). */
  async declare(queue: string, type: 'classic' | 'quorum'): Promise<void> {
    await this.#connection.queueDeclare(type === 'classic' ? { queue, durable: true } : { queue, durable: true, arguments: { 'x-queue-type': 'quorum' } });
  }

  async depth(queue: string): Promise<number> {
    const ok = await this.#connection.queueDeclare({ queue, passive: true });
    return ok.messageCount;
  }

  /** Takes (and acks) every message waiting in the queue. */
  async drain(queue: string): Promise<Received[]> {
    const out: Received[] = [];
    for (;;) {
      const message = await this.#connection.basicGet({ queue, noAck: true });
      if (!message) return out;
      const raw = Buffer.isBuffer(message.body) ? message.body.toString('utf8') : JSON.stringify(message.body);
      out.push({ event: assertAuditEvent(JSON.parse(raw)), messageId: message.messageId, correlationId: message.correlationId });
    }
  }

  close(): Promise<void> {
    return this.#connection.close();
  }
}

describe('generator against the real RabbitMQ', () => {
  const queues: string[] = [];
  const brokers: AmqpBroker[] = [];
  const generators: GeneratorHandle[] = [];
  const reader = new QueueReader();

  function broker(): AmqpBroker {
    const made = new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'generator-test', queueType: 'quorum' });
    brokers.push(made);
    return made;
  }

  async function start(env: Record<string, string> = {}): Promise<{ generator: GeneratorHandle; queue: string }> {
    const queue = uniqueName('generator');
    queues.push(queue);
    const generator = await startTestGenerator(broker(), { RABBITMQ_QUEUE: queue, ...env });
    generators.push(generator);
    // The queue is declared in the background; readiness says when it exists.
    await waitFor(
      async () => ((await generator.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200 ? true : undefined),
      15_000,
      'generator readiness',
    );
    return { generator, queue };
  }

  after(async () => {
    for (const generator of generators) await generator.stop();
    for (const made of brokers) await made.close().catch(() => undefined);
    await reader.close();
    await deleteQueues(queues);
  });

  test('POST /generate_event: the event arrives with messageId = correlationId = event_id', async () => {
    const { generator, queue } = await start();
    const response = await generator.app.inject({
      method: 'POST',
      url: '/generate_event',
      payload: { event_type: 'user_login', user_id: 'integration_user', action_result: 'FAILURE' },
    });
    assert.equal(response.statusCode, 202);
    const { event_id } = response.json();
    const [received, ...rest] = await reader.drain(queue);
    assert.equal(rest.length, 0);
    assert.equal(received!.event.event_id, event_id);
    assert.equal(received!.messageId, event_id);
    assert.equal(received!.correlationId, event_id);
    assert.equal(received!.event.source_service, SOURCE_SERVICES.api);
    assert.equal(received!.event.user_id, 'integration_user');
  });

  test('20 concurrent clients: every 202 is a message in the queue (F2)', async () => {
    const { generator, queue } = await start();
    const clients = 20;
    const perClient = 10;
    const responses = await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        const ids: string[] = [];
        for (let i = 0; i < perClient; i++) {
          const response = await generator.app.inject({
            method: 'POST',
            url: '/generate_event',
            payload: { event_type: 'user_login', user_id: `client_${client}` },
          });
          assert.equal(response.statusCode, 202, response.body);
          ids.push(response.json().event_id);
        }
        return ids;
      }),
    );
    const accepted = responses.flat();
    assert.equal(accepted.length, clients * perClient);
    // A 202 is sent only after the confirm, so the queue must already hold every message.
    assert.equal(await reader.depth(queue), accepted.length);
    const received = await reader.drain(queue);
    assert.deepEqual(received.map((r) => r.messageId).sort(), [...accepted].sort());
  });

  test('POST /events batch: all confirmed before the 202', async () => {
    const { generator, queue } = await start();
    const batch = Array.from({ length: 50 }, (_, i) => ({
      source_service: 'batch-producer',
      server_hostname: 'prod-web-01',
      event_type: 'user_login',
      severity: 'INFO',
      user_id: `batch_${i}`,
      action_result: 'SUCCESS',
      details: { ip_address: '192.168.1.120', protocol: 'ssh' },
    }));
    const response = await generator.app.inject({ method: 'POST', url: '/events', payload: batch });
    assert.equal(response.statusCode, 202);
    assert.equal(response.json().accepted, 50);
    assert.equal(await reader.depth(queue), 50);
    await reader.drain(queue);
  });

  test('POST /scenarios/brute-force: five events in event-time order', async () => {
    const { generator, queue } = await start();
    const response = await generator.app.inject({
      method: 'POST',
      url: '/scenarios/brute-force',
      payload: { user: uniqueName('user'), host: 'iso-host' },
    });
    assert.equal(response.statusCode, 202);
    const received = await reader.drain(queue);
    assert.deepEqual(
      received.map((r) => r.messageId),
      response.json().events,
    );
    const stamps = received.map((r) => Date.parse(r.event.timestamp));
    assert.deepEqual([...stamps].sort((a, b) => a - b), stamps);
    assert.ok(received.every((r) => r.event.scenario === 'brute-force'));
  });

  test('publishScenario (the CLI path) publishes straight to a broker, paced by rate', async () => {
    const queue = uniqueName('generator-cli');
    queues.push(queue);
    const cliBroker = broker();
    await cliBroker.declareQueues([queue]);
    const run = await publishScenario(cliBroker, queue, 'password-spraying', { ip: '198.51.100.200', rate: 100 });
    assert.equal(run.events.length, 6);
    const received = await reader.drain(queue);
    assert.deepEqual(
      received.map((r) => r.messageId),
      run.events,
    );
    assert.equal(new Set(received.map((r) => r.event.user_id)).size, 6);
    assert.ok(received.every((r) => r.event.details.ip_address === '198.51.100.200'));
  });

  for (const existing of ['classic', 'quorum'] as const) {
    const configured = existing === 'classic' ? 'quorum' : 'classic';
    test(`a ${existing} queue declared first is used as it is by a generator configured for ${configured}`, async () => {
      const queue = uniqueName(`generator-${existing}`);
      queues.push(queue);
      await reader.declare(queue, existing);
      const made = new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'generator-test', queueType: configured });
      brokers.push(made);
      const generator = await startTestGenerator(made, { RABBITMQ_QUEUE: queue });
      generators.push(generator);
      await waitFor(
        async () => ((await generator.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200 ? true : undefined),
        15_000,
        'generator readiness',
      );
      const response = await generator.app.inject({ method: 'POST', url: '/generate_event', payload: { event_type: 'user_login' } });
      assert.equal(response.statusCode, 202);
      const received = await reader.drain(queue);
      assert.deepEqual(
        received.map((r) => r.messageId),
        [response.json().event_id],
      );
      // Still the queue it was: a declaration of the original's kind is still accepted.
      await reader.declare(queue, existing);
    });
  }

  test('the background stream reaches the queue', async () => {
    const { generator, queue } = await start({ EVENTS_PER_SECOND: '100' });
    await waitFor(async () => ((await reader.depth(queue)) >= 10 ? true : undefined), 15_000, 'ten background events');
    await generator.stop();
    const received = await reader.drain(queue);
    assert.ok(received.length >= 10);
    for (const { event, messageId } of received) {
      assert.equal(event.source_service, SOURCE_SERVICES.loop);
      assert.equal(messageId, event.event_id);
    }
  });
});
