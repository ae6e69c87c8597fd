import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { AuditEvent } from '@auditflow/common';
import { waitFor } from '../../common/test/support.ts';
import { failedLogin, makeEvent, T0 } from './fixtures.ts';
import { cleanup, QueueCollector, startTestAnalysis, TestPublisher, type TestNames, testNames } from './integration-support.ts';

const S = 1000;

/** Headers any producer can set: none may silence detection (a forged count used to dead-letter the event). */
const FORGED = {
  'x-delivery-count': 51,
  'x-death': 'forged',
  'x-af-delivery-count': 99,
  'x-af-error-code': 'AF_FORGED',
  'x-af-dead-letter-reason': 'forged',
};

function attack(user: string): AuditEvent[] {
  const sensitive = makeEvent({ event_type: 'file_modified', action_result: 'MODIFIED', severity: 'CRITICAL', user_id: user, details: { resource: '/etc/shadow' } } as never);
  return [...[0, 1, 2].map((i) => failedLogin(user, 'h1', T0 + i * S)), sensitive];
}

async function publishForged(publisher: TestPublisher, queue: string, events: readonly AuditEvent[]): Promise<void> {
  for (const event of events) {
    await publisher.raw(queue, Buffer.from(JSON.stringify(event)), { messageId: event.event_id, headers: FORGED });
  }
}

describe('analysis on the wire: forged headers, queues declared by the original, body decoding', () => {
  const publisher = new TestPublisher();
  const used: TestNames[] = [];
  after(async () => {
    await publisher.close();
    for (const names of used) await cleanup(names);
  });

  for (const type of ['quorum', 'classic'] as const) {
    const configured = type === 'classic' ? 'quorum' : 'classic';
    test(`events with forged delivery headers raise their alerts (${type} queues declared first, analysis configured for ${configured})`, async () => {
      const names = testNames(`wire-${type}`);
      used.push(names);
      // The original declares both queues classic and durable, with no arguments.
      await publisher.declare([names.queue, names.alertQueue], type);
      const analysis = await startTestAnalysis(names, { RABBITMQ_QUEUE_TYPE: configured });
      const alerts = new QueueCollector(names.alertQueue, type);
      // The dead-letter queue did not exist: analysis created it with its configured type.
      const dlq = new QueueCollector(`${names.queue}.dlq`, configured);
      try {
        const user = `u-${randomUUID().slice(0, 8)}`;
        await publishForged(publisher, names.queue, attack(user));
        await waitFor(
          () => {
            const rules = new Set(alerts.alerts.map((a) => a.analysis_rule?.rule_id));
            return rules.has('ANLY-SEC-001') && rules.has('ANLY-SEC-002') ? true : undefined;
          },
          15_000,
          'both alerts',
        );
        assert.equal(dlq.messages.length, 0, 'nothing dead-lettered');
        assert.doesNotMatch(await analysis.handle.registry.metrics(), /audit_analysis_dead_letter_total\{reason="delivery_limit"[^}]*\} [1-9]/);
      } finally {
        await alerts.close();
        await dlq.close();
        await analysis.stop();
      }
    });
  }

  test('one decoding rule: the bytes decide, whatever the content type claims, each failure with its reason', async () => {
    const names = testNames('wire-decode');
    used.push(names);
    const analysis = await startTestAnalysis(names);
    const dlq = new QueueCollector(`${names.queue}.dlq`);
    const alerts = new QueueCollector(names.alertQueue);
    try {
      const wrapped = makeEvent({ event_type: 'file_modified', action_result: 'MODIFIED', details: { resource: '/etc/shadow' } } as never);
      const poisons: [string, Buffer, string][] = [
        // A JSON string holding an event is a string, not an event: it is never unwrapped.
        ['AF_EVENT_NOT_OBJECT', Buffer.from(JSON.stringify(JSON.stringify(wrapped))), 'application/json'],
        ['AF_EVENT_INVALID_UTF8', Buffer.concat([Buffer.from('{"event_id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), 'text/plain'],
        ['AF_EVENT_NOT_OBJECT', Buffer.from('[1, 2, 3]'), 'application/json'],
        ['AF_EVENT_INVALID_JSON', Buffer.from('{"event_id": '), 'application/json'],
        ['AF_EVENT_SCHEMA', Buffer.from(JSON.stringify({ event_id: 'not-a-uuid' })), 'text/plain'],
      ];
      for (const [code, body, contentType] of poisons) await publisher.raw(names.queue, body, { messageId: `${code}-${randomUUID()}`, contentType });
      await waitFor(() => dlq.messages.length >= poisons.length || undefined, 15_000, 'dead letters');
      const codes = dlq.messages.map((m) => String(m.headers['x-af-error-code'])).sort();
      assert.deepEqual(codes, poisons.map(([code]) => code).sort());
      const metrics = await analysis.handle.registry.metrics();
      assert.match(metrics, /audit_analysis_dead_letter_total\{reason="not_object",service="audit-log-analysis"\} 2/);
      assert.match(metrics, /audit_analysis_dead_letter_total\{reason="invalid_utf8",service="audit-log-analysis"\} 1/);
      assert.equal(alerts.messages.length, 0, 'the wrapped event raised no alert');
    } finally {
      await dlq.close();
      await alerts.close();
      await analysis.stop();
    }
  });
});
