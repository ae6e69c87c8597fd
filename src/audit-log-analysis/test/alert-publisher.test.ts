import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { type Alert, isPermanent, type MessageBroker, type OutboundMessage } from '@auditflow/common';
import { AlertPublisher } from '../src/service/alert-publisher.ts';

function fakeBroker() {
  const sent: { queue: string; message: OutboundMessage }[] = [];
  const gates: (() => void)[] = [];
  let failNext = false;
  const broker = {
    publish: (queue: string, message: OutboundMessage) =>
      new Promise<void>((resolve, reject) => {
        gates.push(() => {
          if (failNext) {
            failNext = false;
            reject(new Error('not confirmed'));
            return;
          }
          sent.push({ queue, message });
          resolve();
        });
      }),
  } as unknown as MessageBroker;
  return {
    broker,
    sent,
    confirmNext: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      gates.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    },
    failNext: () => {
      failNext = true;
    },
    pending: () => gates.length,
  };
}

const version = (id: string, count: number) => {
  const alert = alertOf(id, count);
  return { alertId: id, count, alert };
};

const alertOf = (id: string, count: number): Alert => ({
  alert_id: id,
  timestamp: new Date().toISOString(),
  alert_name: 'Test alert',
  alert_type: 'SECURITY',
  severity: 'HIGH',
  correlation_id: randomUUID(),
  raw_event_data: {},
  count,
});

test('one publish in flight per alert id; repeats fold into the waiting newest version', async () => {
  const fake = fakeBroker();
  const publisher = new AlertPublisher(fake.broker, 'alerts');
  const id = randomUUID();
  const first = publisher.publish(version(id, 3), 'e1', true);
  await new Promise((resolve) => setImmediate(resolve));
  const second = publisher.publish(version(id, 4), 'e2', false);
  const third = publisher.publish(version(id, 5), 'e3', false);
  await fake.confirmNext();
  assert.equal((await first).alert.count, 3);
  assert.equal(fake.pending(), 1, 'the folded versions wait for the first confirm, then go as one');
  await fake.confirmNext();
  const [a, b] = await Promise.all([second, third]);
  assert.equal(a.alert.count, 5);
  assert.equal(b.alert.count, 5);
  assert.deepEqual(fake.sent.map((s) => (s.message.body as Alert).count), [3, 5]);
  assert.equal(fake.sent[1]!.message.correlationId, 'e3');
  assert.equal((await first).isNew, true);
  assert.equal(a.isNew, false);
  assert.equal(fake.sent[0]!.message.messageId, id);
});

test('different alert ids publish independently; a failed publish rejects only its callers', async () => {
  const fake = fakeBroker();
  const publisher = new AlertPublisher(fake.broker, 'alerts');
  fake.failNext();
  const failing = publisher.publish(version(randomUUID(), 1), 'x', true);
  const other = publisher.publish(version(randomUUID(), 1), 'y', true);
  await fake.confirmNext();
  await assert.rejects(failing, /not confirmed/);
  await fake.confirmNext();
  assert.equal((await other).isNew, true);
});

test('updates linger so the repeats of that moment go out as one publish; new alerts never wait', async () => {
  const fake = fakeBroker();
  const publisher = new AlertPublisher(fake.broker, 'alerts', { updateLingerMs: 40 });
  const id = randomUUID();
  const opened = publisher.publish(version(id, 1), 'e1', true);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(fake.pending(), 1, 'a new alert is published at once');
  await fake.confirmNext();
  assert.equal((await opened).alert.count, 1);
  const second = publisher.publish(version(id, 2), 'e2', false);
  await new Promise((resolve) => setTimeout(resolve, 10));
  const third = publisher.publish(version(id, 3), 'e3', false);
  assert.equal(fake.pending(), 0, 'the update is still lingering');
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(fake.pending(), 1, 'one publish carries both repeats');
  await fake.confirmNext();
  const [a, b] = await Promise.all([second, third]);
  assert.equal(a.alert.count, 3);
  assert.equal(b.alert.count, 3);
  assert.deepEqual(fake.sent.map((s) => (s.message.body as Alert).count), [1, 3]);
});

test('a version that breaks the alert contract is refused permanently and never published', async () => {
  const fake = fakeBroker();
  const publisher = new AlertPublisher(fake.broker, 'alerts');
  const id = randomUUID();
  const broken = { alertId: id, count: 1, alert: { ...alertOf(id, 1), severity: '' } };
  await assert.rejects(publisher.publish(broken, 'e1', true), (error: unknown) => isPermanent(error));
  assert.equal(fake.pending(), 0);
});
