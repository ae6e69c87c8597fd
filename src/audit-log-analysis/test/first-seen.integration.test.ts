import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { AmqpBroker } from '@auditflow/common';
import { loadAnalysisConfig } from '../src/config.ts';
import { parseRules } from '../src/rules/rule-parser.ts';
import { startAnalysis } from '../src/service/start-analysis.ts';
import { RedisWindowStore } from '../src/store/redis-window-store.ts';
import { silentLogger, waitFor } from '../../common/test/support.ts';
import { makeEvent, T0 } from './fixtures.ts';
import { cleanup, QueueCollector, TestPublisher, testNames } from './integration-support.ts';

const DAY = 86_400_000;
const RULES = parseRules(
  `title: Sudo succeeded
id: IT-SUDO
name: sudo_ok
detection:
  sel: { event_type: sudo, action_result: SUCCESS }
  condition: sel
---
title: First sudo by a user on a host
id: IT-FS-SUDO
correlation:
  type: first_seen
  rules: [sudo_ok]
  group-by: [server_hostname]
  fields: [user_id]
  learning_period: 7d
`,
  'first-seen-it.yaml',
);

const sudo = (host: string, user: string) => makeEvent({ event_type: 'sudo', action_result: 'SUCCESS', server_hostname: host, user_id: user, details: { command: '/usr/bin/id' } });

describe('first_seen through the analysis service on RabbitMQ and Redis, across a restart', () => {
  const names = testNames('fs-restart');
  const publisher = new TestPublisher();
  const alerts = new QueueCollector(names.alertQueue);
  const clock = { now: T0 };
  after(async () => {
    await alerts.close();
    await publisher.close();
    await cleanup(names);
  });

  /** One analysis process: its own broker connection and Redis client, the shared clock. */
  const start = async () => {
    const config = loadAnalysisConfig(names.env, { standalone: true });
    const broker = new AmqpBroker({ url: config.rabbit.url!, logger: silentLogger, connectionName: 'fs-it', queueType: config.rabbit.queueType });
    const store = new RedisWindowStore({ url: config.redis.url!, keyPrefix: config.redis.keyPrefix });
    const handle = await startAnalysis({ config, logger: silentLogger, broker, windowStore: store, host: '127.0.0.1', rules: RULES, now: () => clock.now });
    const metric = async (pattern: RegExp) => Number(pattern.exec(await handle.registry.metrics())?.[1] ?? Number.NaN);
    /** Waits until this instance has acked `count` deliveries (after their alerts were published), so nothing is in flight. */
    const handled = (count: number) =>
      waitFor(async () => ((await metric(/^audit_analysis_events_total\{outcome="ack"[^}]*\} (\d+)$/m)) >= count ? true : undefined), 20_000, `${count} acked`);
    return {
      handle,
      metric,
      handled,
      stop: async () => {
        await handle.stop();
        await broker.close();
        await store.close();
      },
    };
  };

  test('nothing in the learning period; one alert per new value after it; a restart between batches duplicates nothing', async () => {
    let analysis = await start();
    try {
      assert.equal(await analysis.metric(/^audit_analysis_first_seen_rules_learning\{[^}]*\} (\d+)$/m), 1);
      await publisher.events(names.queue, [sudo('pi-1', 'ops'), sudo('pi-2', 'ops'), sudo('pi-1', 'early-bird')]);
      await analysis.handled(3);
      assert.equal(await analysis.metric(/^audit_analysis_first_seen_values_learned_total\{rule_id="IT-FS-SUDO"[^}]*\} (\d+)$/m), 3);

      clock.now = T0 + 7 * DAY;
      assert.equal(await analysis.metric(/^audit_analysis_first_seen_rules_learning\{[^}]*\} (\d+)$/m), 0);
      const mallory = sudo('pi-1', 'mallory');
      await publisher.events(names.queue, [sudo('pi-1', 'ops'), mallory, sudo('pi-1', 'early-bird')]);
      await analysis.handled(6);
      await waitFor(() => (alerts.alerts.length >= 1 ? true : undefined), 15_000, 'the first alert');
      const app = analysis.handle.urls['http'];
      const state = (await (await fetch(`${app}/rules/IT-FS-SUDO/state?group=server_hostname=pi-1,user_id=mallory`)).json()) as { first_seen: Record<string, unknown> };
      assert.deepEqual(state.first_seen, {
        learning_started: new Date(T0).toISOString(),
        learning_until: new Date(T0 + 7 * DAY).toISOString(),
        values: 4,
        max_values: 10_000,
        combination_last_seen: new Date(T0 + 7 * DAY).toISOString(),
      });
      const listed = (await (await fetch(`${app}/rules`)).json()) as { rules: { id: string; correlation?: { first_seen: unknown } }[] };
      assert.deepEqual(listed.rules.find((r) => r.id === 'IT-FS-SUDO')?.correlation?.first_seen, {
        fields: ['user_id'],
        learning_period_seconds: 7 * 86_400,
        forget_after_seconds: null,
        max_values: 10_000,
      });
      await analysis.stop();

      // A new process on the same Redis: the learning start and the learned values are there.
      analysis = await start();
      clock.now = T0 + 8 * DAY;
      // The raising event published again (a duplicate, not a redelivery) and new deliveries of the same value.
      const again = { ...mallory };
      await publisher.events(names.queue, [sudo('pi-1', 'mallory'), again, sudo('pi-2', 'mallory'), sudo('pi-2', 'ops')]);
      await analysis.handled(4);
      await waitFor(() => (alerts.alerts.length >= 2 ? true : undefined), 15_000, 'the second alert');
      // Room for a duplicate to arrive, if there were one.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const raised = alerts.alerts.map((a) => `${a.analysis_rule?.rule_id} ${JSON.stringify(a.group_key)}`);
      assert.deepEqual(raised, [
        'IT-FS-SUDO {"server_hostname":"pi-1","user_id":"mallory"}',
        'IT-FS-SUDO {"server_hostname":"pi-2","user_id":"mallory"}',
      ]);
      assert.equal(new Set(alerts.alerts.map((a) => a.alert_id)).size, 2);
      assert.equal(alerts.alerts[0]!.correlation_id, mallory.event_id);
      assert.match(alerts.alerts[0]!.description ?? '', /New: user_id=mallory for server_hostname=pi-1\./);
      assert.equal(await analysis.metric(/^audit_analysis_first_seen_values\{rule_id="IT-FS-SUDO"[^}]*\} (\d+)$/m), 5);
    } finally {
      await analysis.stop();
    }
  });
});
