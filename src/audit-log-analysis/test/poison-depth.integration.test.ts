// Issue 18: an event nested 20,000 deep must be dead-lettered with its reason, and the next event must alert.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { waitFor } from '../../common/test/support.ts';
import { failedLogin, makeEvent, T0 } from './fixtures.ts';
import { cleanup, QueueCollector, startTestAnalysis, TestPublisher, testNames } from './integration-support.ts';

/** A schema-valid event whose details nest `depth` objects deep, as the attack run sent it. */
function deepEvent(depth: number): Buffer {
  const event = makeEvent({ details: {} });
  const head = JSON.stringify({ ...event, details: '__DEEP__' });
  const nested = `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
  return Buffer.from(head.replace('"__DEEP__"', nested));
}

describe('poison that cannot wedge the analysis', () => {
  const names = testNames('deep');
  const publisher = new TestPublisher();
  after(async () => {
    await publisher.close();
    await cleanup(names);
  });

  test('a 40 KB event nested 20,000 deep is dead-lettered with its reason and the next event alerts', async () => {
    await publisher.declare([names.queue, `${names.queue}.dlq`, names.alertQueue]);
    const body = deepEvent(20_000);
    assert.ok(body.byteLength > 40_000 && body.byteLength < 42_000, `${body.byteLength} bytes`);
    await publisher.raw(names.queue, body, { messageId: randomUUID() });
    const analysis = await startTestAnalysis(names);
    const dlq = new QueueCollector(`${names.queue}.dlq`);
    const alerts = new QueueCollector(names.alertQueue);
    try {
      const user = `u-${randomUUID().slice(0, 8)}`;
      await publisher.events(names.queue, [0, 1, 2].map((i) => failedLogin(user, 'h-deep', T0 + i * 1000)));
      await waitFor(() => dlq.messages.length >= 1 || undefined, 30_000, 'the deep event dead-lettered');
      assert.equal(dlq.messages[0]!.headers['x-af-error-code'], 'AF_EVENT_TOO_DEEP');
      assert.match(String(dlq.messages[0]!.headers['x-af-dead-letter-reason']), /nest/);
      await waitFor(() => alerts.alerts.some((a) => a.triggered_by?.actor_id === user) || undefined, 30_000, 'the next events alert');
      const metrics = await analysis.handle.registry.metrics();
      assert.match(metrics, /audit_analysis_dead_letter_total\{reason="too_deep",service="audit-log-analysis"\} 1/);
    } finally {
      await alerts.close();
      await dlq.close();
      await analysis.stop();
    }
  });
});
