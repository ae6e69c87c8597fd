import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { buildScenarioEvents, SCENARIOS } from '@auditflow/audit-event-generator';
import type { AuditEvent } from '@auditflow/common';
import { waitFor } from '../../common/test/support.ts';
import { cleanup, QueueCollector, type RunningAnalysis, startTestAnalysis, TestPublisher, testNames } from './integration-support.ts';

/**
 * Every generator scenario, published through RabbitMQ into a running
 * analysis, must raise exactly the rules it names and no other.
 */
describe('generator scenarios trigger exactly their expected rules', () => {
  const names = testNames('scenarios');
  const publisher = new TestPublisher();
  let analysis: RunningAnalysis;
  let alerts: QueueCollector;
  const published = new Map<string, AuditEvent[]>();

  before(async () => {
    analysis = await startTestAnalysis(names);
    alerts = new QueueCollector(names.alertQueue);
    const now = new Date();
    SCENARIOS.forEach((scenario, index) => {
      const tag = randomUUID().slice(0, 8);
      const events = buildScenarioEvents(scenario.name, {
        now,
        user: `scn-${index}-${tag}`,
        host: `scn-host-${index}-${tag}`,
        ip: `198.51.100.${index + 1}`,
      });
      published.set(scenario.name, events);
    });
    for (const events of published.values()) await publisher.events(names.queue, events);
    const expectedTotal = SCENARIOS.reduce((n, s) => n + s.expectedRules.length, 0);
    await waitFor(() => new Set(alerts.alerts.map((a) => `${a.raw_event_data['scenario']}|${a.analysis_rule?.rule_id}`)).size >= expectedTotal || undefined, 20_000, 'the expected alerts');
    await waitFor(async () => ((await publisher.messageCount(names.queue)) === 0 ? true : undefined), 10_000, 'the queue to drain');
    // Room for any unexpected alert to arrive before the assertions look.
    await new Promise((resolve) => setTimeout(resolve, 500));
  });

  after(async () => {
    await alerts.close();
    await analysis.stop();
    await publisher.close();
    await cleanup(names);
  });

  test('the generator offers every scenario the rules need', () => {
    const names = SCENARIOS.map((s) => s.name).sort();
    for (const name of ['brute-force', 'password-spraying', 'brute-force-then-success', 'sensitive-file-modified', 'unexpected-sudo', 'audit-service-stopped', 'off-hours-account']) {
      assert.ok(names.includes(name), name);
    }
  });

  for (const scenario of SCENARIOS) {
    test(`${scenario.name} raises ${scenario.expectedRules.join(' + ')}`, () => {
      const ids = new Set(published.get(scenario.name)!.map((event) => event.event_id));
      const raised = new Set(
        alerts.alerts.filter((alert) => ids.has(String(alert.raw_event_data['event_id']))).map((alert) => alert.analysis_rule?.rule_id),
      );
      assert.deepEqual([...raised].sort(), [...scenario.expectedRules].sort());
    });
  }

  test('no alert was triggered by anything but the scenarios', () => {
    const all = new Set([...published.values()].flat().map((event) => event.event_id));
    assert.ok(alerts.alerts.every((alert) => all.has(String(alert.raw_event_data['event_id']))));
  });
});
