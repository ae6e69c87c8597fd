import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertAuditEvent } from '@auditflow/common';
import { SOURCE_SERVICES } from '../src/index.ts';
import { waitFor } from '../../common/test/support.ts';
import { FakeBroker } from './fake-broker.ts';
import { FakeTime } from './fake-time.ts';
import { metricsText, sample, startTestGenerator } from './helpers.ts';

describe('background stream', () => {
  test('publishes valid events with messageId = event_id and stops cleanly', async () => {
    const broker = new FakeBroker();
    const generator = await startTestGenerator(broker, { EVENTS_PER_SECOND: '200' });
    try {
      await waitFor(() => broker.published.length >= 20 || undefined, 10_000, '20 background events');
    } finally {
      await generator.stop();
    }
    const count = broker.published.length;
    for (const { queue, message } of broker.published) {
      const event = assertAuditEvent(message.body);
      assert.equal(queue, 'audit_events');
      assert.equal(message.messageId, event.event_id);
      assert.equal(message.correlationId, event.event_id);
      assert.equal(event.source_service, SOURCE_SERVICES.loop);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(broker.published.length, count, 'nothing is published after stop()');
  });

  test('timestamps follow the injected clock at the configured rate, without drift', async () => {
    const time = new FakeTime(Date.parse('2026-06-10T12:00:00.000Z'));
    const broker = new FakeBroker();
    const generator = await startTestGenerator(broker, { EVENTS_PER_SECOND: '2' }, { clock: time.clock, sleep: time.sleep });
    try {
      await waitFor(() => broker.published.length >= 10 || undefined, 10_000, '10 events');
    } finally {
      await generator.stop();
    }
    const stamps = broker.bodies().slice(0, 10).map((body) => Date.parse(String(body['timestamp'])));
    const start = stamps[0]!;
    assert.deepEqual(
      stamps,
      Array.from({ length: 10 }, (_, i) => start + i * 500),
    );
  });

  test('at night the time-of-day profile slows the stream down', async () => {
    const time = new FakeTime(Date.parse('2026-06-10T02:00:00.000Z'));
    const broker = new FakeBroker();
    const generator = await startTestGenerator(broker, { EVENTS_PER_SECOND: '2' }, { clock: time.clock, sleep: time.sleep });
    try {
      await waitFor(() => broker.published.length >= 5 || undefined, 10_000, '5 events');
    } finally {
      await generator.stop();
    }
    const stamps = broker.bodies().slice(0, 5).map((body) => Date.parse(String(body['timestamp'])));
    const gaps = stamps.slice(1).map((stamp, i) => stamp - stamps[i]!);
    for (const gap of gaps) assert.ok(gap > 1000, `gap ${gap} ms is a working-hours pace`);
  });

  test('publish failures are counted and never stop the stream', async () => {
    const broker = new FakeBroker();
    broker.failPublish = true;
    const generator = await startTestGenerator(broker, { EVENTS_PER_SECOND: '200' });
    try {
      await waitFor(
        async () => ((sample(await metricsText(generator), 'audit_event_generator_published_failure_total') ?? 0) >= 5 ? true : undefined),
        10_000,
        'failures to be counted',
      );
      broker.failPublish = false;
      await waitFor(() => broker.published.length >= 5 || undefined, 10_000, 'publishing to resume');
    } finally {
      await generator.stop();
    }
    // The servers are closed now; the registry itself still answers.
    const text = await generator.registry.metrics();
    const generated = [...text.matchAll(/^audit_event_generator_events_total\{[^}]*\} (\d+)$/gm)].reduce(
      (sum, match) => sum + Number(match[1]),
      0,
    );
    const success = sample(text, 'audit_event_generator_published_success_total')!;
    const failure = sample(text, 'audit_event_generator_published_failure_total')!;
    assert.equal(success, broker.published.length);
    assert.equal(generated, success + failure, 'every generated event is either confirmed or counted as failed');
  });
});

describe('start-up while RabbitMQ is unavailable', () => {
  test('the generator starts, stays unready until the queue is declared, then streams', async () => {
    const broker = new FakeBroker();
    broker.failDeclares = 2;
    const generator = await startTestGenerator(broker, { EVENTS_PER_SECOND: '100' });
    try {
      const early = await generator.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(early.statusCode, 503);
      assert.equal(early.json().checks.queues.ok, false);
      assert.equal((await generator.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      assert.equal(broker.published.length, 0, 'nothing is published before the queue exists');
      await waitFor(
        async () => ((await generator.app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200 ? true : undefined),
        10_000,
        'readiness after the declare retries',
      );
      assert.deepEqual(broker.declared, ['audit_events']);
      await waitFor(() => broker.published.length >= 3 || undefined, 10_000, 'the stream to start');
    } finally {
      await generator.stop();
    }
  });
});

describe('shutdown before RabbitMQ ever came up', () => {
  test('stop() returns and nothing is published', async () => {
    const broker = new FakeBroker();
    broker.failDeclares = Number.POSITIVE_INFINITY;
    const generator = await startTestGenerator(broker, { EVENTS_PER_SECOND: '100', SCENARIO_INTERVAL_SECONDS: '1' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await generator.stop();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(broker.published.length, 0);
    assert.deepEqual(broker.declared, []);
  });
});

describe('scenario schedule', () => {
  test('first run after 5 s, then every interval, round-robin over SCENARIOS', async () => {
    const start = Date.parse('2026-06-10T12:00:00.000Z');
    const time = new FakeTime(start);
    const broker = new FakeBroker();
    const generator = await startTestGenerator(
      broker,
      { SCENARIO_INTERVAL_SECONDS: '45', SCENARIOS: 'unexpected-sudo,audit-service-stopped' },
      { clock: time.clock, sleep: time.sleep },
    );
    try {
      await waitFor(() => broker.published.length >= 3 || undefined, 10_000, 'three scheduled scenarios');
    } finally {
      await generator.stop();
    }
    const runs = broker.bodies().slice(0, 3);
    assert.deepEqual(
      runs.map((event) => event['scenario']),
      ['unexpected-sudo', 'audit-service-stopped', 'unexpected-sudo'],
    );
    assert.deepEqual(
      runs.map((event) => Date.parse(String(event['timestamp'])) - start),
      [5000, 50_000, 95_000],
    );
    const text = await generator.registry.metrics();
    assert.ok(sample(text, 'audit_event_generator_scenarios_total', { scenario: 'unexpected-sudo' })! >= 2);
    assert.ok(sample(text, 'audit_event_generator_scenarios_total', { scenario: 'audit-service-stopped' })! >= 1);
  });

  test('with SCENARIO_INTERVAL_SECONDS=0 no scenario runs', async () => {
    const time = new FakeTime(Date.parse('2026-06-10T12:00:00.000Z'));
    const broker = new FakeBroker();
    const generator = await startTestGenerator(broker, { SCENARIO_INTERVAL_SECONDS: '0' }, { clock: time.clock, sleep: time.sleep });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await generator.stop();
    assert.equal(broker.published.length, 0);
  });
});
