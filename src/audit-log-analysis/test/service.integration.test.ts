import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { type InboundMessage, MAX_EVENT_BYTES, MemoryBroker, type OutboundMessage } from '@auditflow/common';
import { loadAnalysisConfig } from '../src/config.ts';
import { startAnalysis } from '../src/service/start-analysis.ts';
import { MemoryWindowStore } from '../src/store/memory-window-store.ts';
import { RedisWindowStore } from '../src/store/redis-window-store.ts';
import { silentLogger, waitFor } from '../../common/test/support.ts';
import { failedLogin, makeEvent, T0 } from './fixtures.ts';
import { cleanup, QueueCollector, startTestAnalysis, TestPublisher, testNames } from './integration-support.ts';

const S = 1000;

describe('analysis service on RabbitMQ and Redis', () => {
  const names = testNames('svc');
  const publisher = new TestPublisher();
  after(async () => {
    await publisher.close();
    await cleanup(names);
  });

  test('poison messages of each kind land in the DLQ with their reason and are counted', async () => {
    const analysis = await startTestAnalysis(names);
    const dlq = new QueueCollector(`${names.queue}.dlq`);
    try {
      const badTime = makeEvent();
      (badTime as { timestamp: string }).timestamp = 'yesterday';
      const poisons: [string, Buffer][] = [
        ['AF_EVENT_TOO_LARGE', Buffer.from(JSON.stringify({ pad: 'x'.repeat(MAX_EVENT_BYTES) }))],
        ['AF_EVENT_INVALID_UTF8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
        ['AF_EVENT_INVALID_JSON', Buffer.from('{"event_id": ')],
        ['AF_EVENT_SCHEMA', Buffer.from(JSON.stringify({ event_id: 'not-a-uuid' }))],
        ['AF_EVENT_SCHEMA', Buffer.from(JSON.stringify(badTime))],
        ['AF_EVENT_SCHEMA', Buffer.from('[1, 2, 3]')],
      ];
      for (const [code, body] of poisons) await publisher.raw(names.queue, body, { messageId: `${code}-${randomUUID()}` });
      await waitFor(() => dlq.messages.length >= poisons.length || undefined, 15_000, 'dead letters');
      const codes = dlq.messages.map((m) => String(m.headers['x-af-error-code'])).sort();
      assert.deepEqual(codes, poisons.map(([code]) => code).sort());
      for (const message of dlq.messages) {
        assert.ok(String(message.headers['x-af-dead-letter-reason']).length > 0);
        assert.equal(message.headers['x-af-original-queue'], names.queue);
      }
      const metrics = await analysis.handle.registry.metrics();
      assert.match(metrics, /audit_analysis_dead_letter_total\{reason="oversized",service="audit-log-analysis"\} 1/);
      assert.match(metrics, /audit_analysis_dead_letter_total\{reason="invalid_utf8",service="audit-log-analysis"\} 1/);
      assert.match(metrics, /audit_analysis_dead_letter_total\{reason="invalid_json",service="audit-log-analysis"\} 1/);
      assert.match(metrics, /audit_analysis_dead_letter_total\{reason="schema",service="audit-log-analysis"\} 3/);
      assert.equal(await publisher.messageCount(names.queue), 0, 'nothing loops back into the queue');
    } finally {
      await dlq.close();
      await analysis.stop();
    }
  });

  test('alerts reach the alert queue; /readyz, /rules and /rules/:id/state answer live', async () => {
    const analysis = await startTestAnalysis(names);
    const alerts = new QueueCollector(names.alertQueue);
    try {
      const app = `${analysis.handle.urls['http']}`;
      const ready = await fetch(`${app}/readyz`);
      assert.equal(ready.status, 200);
      const readyBody = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
      assert.equal(readyBody.checks['redis']?.ok, true);
      assert.equal(readyBody.checks['rabbitmq']?.ok, true);

      const user = `u-${randomUUID().slice(0, 8)}`;
      await publisher.events(names.queue, [0, 1, 2, 3].map((i) => failedLogin(user, 'h1', T0 + i * S)));
      await waitFor(() => alerts.alerts.some((a) => a.count === 4) || undefined, 15_000, 'alert with count 4');
      const ids = new Set(alerts.alerts.map((a) => a.alert_id));
      assert.equal(ids.size, 1);

      const rules = (await (await fetch(`${app}/rules`)).json()) as { rules: { id: string }[] };
      assert.ok(rules.rules.some((r) => r.id === 'ANLY-SEC-004'));
      const state = await fetch(`${app}/rules/ANLY-SEC-001/state?group=user_id=${user},server_hostname=h1`);
      assert.equal(state.status, 200);
      const body = (await state.json()) as { window: { current: number; threshold: number; meets_condition: boolean }; suppression: { alert_id: string; count: number } };
      assert.equal(body.window.current, 4);
      assert.equal(body.window.threshold, 3);
      assert.equal(body.window.meets_condition, true);
      assert.equal(body.suppression.alert_id, [...ids][0]);
      assert.equal(body.suppression.count, 4);
      const missing = await fetch(`${app}/rules/NOPE/state`);
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      const badGroup = await fetch(`${app}/rules/ANLY-SEC-001/state?group=colour=red`);
      assert.equal(badGroup.status, 400);

      // The counter moves once the confirm is back, which can be just after the consumer saw the alert.
      const metricsText = await waitFor(async () => {
        const text = await (await fetch(analysis.handle.urls['metrics']!)).text();
        return /audit_analysis_alerts_published_total\{rule_id="ANLY-SEC-001",kind="new",service="audit-log-analysis"\} 1/.test(text) ? text : undefined;
      }, 5000, 'the new-alert counter');
      assert.match(metricsText, /audit_analysis_rule_matches_total\{rule_id="ANLY-BASE-001",service="audit-log-analysis"\} 4/);
      assert.match(metricsText, /audit_analysis_redis_connection_status\{service="audit-log-analysis"\} 1/);
    } finally {
      await alerts.close();
      await analysis.stop();
    }
  });

  test('Redis down: readiness fails, the event is retried and stays in the queue, nothing is lost', async () => {
    const downNames = testNames('svc-down');
    const config = loadAnalysisConfig({ ...downNames.env, REDIS_URL: 'redis://127.0.0.1:1/0' }, { standalone: true });
    const { AmqpBroker } = await import('@auditflow/common');
    const broker = new AmqpBroker({ url: config.rabbit.url!, logger: silentLogger, connectionName: 'down-test', queueType: 'quorum' });
    const store = new RedisWindowStore({ url: config.redis.url!, keyPrefix: config.redis.keyPrefix, commandTimeoutMs: 500 });
    const handle = await startAnalysis({ config, logger: silentLogger, broker, windowStore: store, host: '127.0.0.1' });
    try {
      const ready = await fetch(`${handle.urls['http']}/readyz`);
      assert.equal(ready.status, 503);
      const body = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
      assert.equal(body.checks['redis']?.ok, false);
      await publisher.events(downNames.queue, [failedLogin('x', 'h', T0)]);
      await waitFor(async () => /audit_analysis_events_total\{outcome="retry",service="audit-log-analysis"\} [1-9]/.test(await handle.registry.metrics()) || undefined, 15_000, 'a retry');
    } finally {
      await handle.stop();
      await broker.close();
      await store.close();
    }
    await waitFor(async () => ((await publisher.messageCount(downNames.queue)) === 1 ? true : undefined), 10_000, 'the event back in the queue');
    await cleanup(downNames);
  });
});

describe('analysis service on the in-process adapters (all-in-one wiring)', () => {
  test('the source event is acked only after the alert publish is confirmed', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let alertPublishes = 0;
    class GatedBroker extends MemoryBroker {
      override async publish(queue: string, message: OutboundMessage): Promise<void> {
        if (queue === 'alerts') {
          alertPublishes++;
          await gate;
        }
        return super.publish(queue, message);
      }
    }
    const broker = new GatedBroker({ logger: silentLogger });
    const config = loadAnalysisConfig({ RABBITMQ_QUEUE: 'events', RABBITMQ_ALERT_QUEUE: 'alerts', APP_PORT: '0', PROMETHEUS_PORT: '0' });
    const handle = await startAnalysis({ config, logger: silentLogger, broker, windowStore: new MemoryWindowStore(), host: '127.0.0.1' });
    const handled: InboundMessage[] = [];
    const alerts = broker.consume({ queue: 'alerts', prefetch: 10 }, async (message) => {
      handled.push(message);
    });
    try {
      const file = makeEvent({ event_type: 'file_modified', action_result: 'MODIFIED', details: { resource: '/etc/shadow' } } as never);
      await broker.publish('events', { body: file, messageId: file.event_id });
      await waitFor(() => alertPublishes > 0 || undefined, 5000, 'the alert publish to start');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(broker.depth('events'), 0);
      assert.equal(await broker.waitIdle(['events'], 100), false, 'the event is still in flight (unacked)');
      release();
      assert.equal(await broker.waitIdle(['events'], 5000), true);
      await waitFor(() => handled.length > 0 || undefined, 5000, 'the alert');
    } finally {
      await alerts.close();
      await handle.stop();
      await broker.close();
    }
  });
});
