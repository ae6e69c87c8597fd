import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { waitFor } from '../../common/test/support.ts';
import {
  cleanup,
  expectedSummary,
  foldAlerts,
  idsByRule,
  QueueCollector,
  startTestAnalysis,
  summarize,
  TestPublisher,
  testNames,
} from './integration-support.ts';
import { buildStream } from './stream.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const NODE = `${ROOT}node_modules/.bin/node`;
const MAIN = `${ROOT}src/audit-log-analysis/src/main.ts`;

function spawnAnalysis(env: Record<string, string>): ChildProcess {
  return spawn(NODE, ['--conditions=source', MAIN], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

/** Waits until the queue is empty and the folded alerts equal the expected ones. */
async function settle(publisher: TestPublisher, queue: string, alerts: QueueCollector, expected: string[], timeoutMs: number): Promise<string[]> {
  let last: string[] = [];
  try {
    await waitFor(
      async () => {
        if ((await publisher.messageCount(queue)) > 0) return undefined;
        last = summarize(foldAlerts(alerts.alerts));
        return JSON.stringify(last) === JSON.stringify(expected) ? true : undefined;
      },
      timeoutMs,
      'the expected alerts',
    );
  } catch {
    // Fall through: the assertion below shows the difference.
  }
  return last;
}

describe('no alert lost or duplicated', () => {
  const publisher = new TestPublisher();
  after(() => publisher.close());

  test('SIGKILL mid-stream and restart: the same alerts as an undisturbed run, none duplicated', async () => {
    const names = testNames('kill', { RABBITMQ_PREFETCH: '20' });
    const events = buildStream({ groups: 30, noise: 8000 });
    const expected = await expectedSummary(events);
    assert.ok(expected.alertIds >= 40, `the stream yields ${expected.alertIds} alerts`);
    await publisher.declare([names.queue, names.alertQueue]);
    const alerts = new QueueCollector(names.alertQueue);
    try {
      await publisher.events(names.queue, events);
      const first = spawnAnalysis(names.env);
      await waitFor(() => alerts.messages.length >= 5 || undefined, 30_000, 'the first alerts');
      first.kill('SIGKILL');
      await exited(first);
      const remaining = await publisher.messageCount(names.queue);
      assert.ok(remaining > 0, 'the process was killed mid-stream');
      const second = spawnAnalysis(names.env);
      try {
        const summary = await settle(publisher, names.queue, alerts, expected.summary, 60_000);
        assert.deepEqual(summary, expected.summary);
        assert.equal(foldAlerts(alerts.alerts).size, expected.alertIds, 'distinct alert ids');
        // Every alert keeps the id of the undisturbed run, for every rule type the stream raises.
        assert.deepEqual(idsByRule(foldAlerts(alerts.alerts)), expected.ids);
        const types = new Set(expected.ids.map((line) => line.split('|')[0]));
        for (const rule of ['ANLY-SEC-001', 'ANLY-SEC-002', 'ANLY-SEC-003', 'ANLY-SEC-004', 'ANLY-SEC-007']) assert.ok(types.has(rule), `the stream raises ${rule}`);
      } finally {
        second.kill('SIGTERM');
        await exited(second);
      }
      assert.equal(second.exitCode, 0, 'graceful shutdown on SIGTERM');
    } finally {
      await alerts.close();
      await cleanup(names);
    }
  });

  test('three replicas on one queue and Redis prefix produce the same alerts as one', async () => {
    const names = testNames('replicas');
    const events = buildStream({ groups: 30, noise: 3000 });
    const expected = await expectedSummary(events);
    await publisher.declare([names.queue, names.alertQueue]);
    const alerts = new QueueCollector(names.alertQueue);
    const replicas = await Promise.all([0, 1, 2].map(() => startTestAnalysis(names)));
    try {
      await publisher.events(names.queue, events);
      const summary = await settle(publisher, names.queue, alerts, expected.summary, 60_000);
      assert.deepEqual(summary, expected.summary);
      assert.equal(foldAlerts(alerts.alerts).size, expected.alertIds, 'distinct alert ids');
      const handled = await Promise.all(replicas.map(async (r) => /audit_analysis_processed_total\{service="audit-log-analysis"\} (\d+)/.exec(await r.handle.registry.metrics())?.[1]));
      assert.ok(handled.filter((n) => Number(n) > 0).length >= 2, `work was shared: ${handled.join(', ')}`);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
      await alerts.close();
      await cleanup(names);
    }
  });
});
