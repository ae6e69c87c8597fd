import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { AmqpBroker, type AuditEvent } from '@auditflow/common';
import { failedLogin } from '../../src/audit-log-analysis/test/fixtures.ts';
import { cleanup, type RunningAnalysis, startTestAnalysis, TestPublisher, type TestNames, testNames } from '../../src/audit-log-analysis/test/integration-support.ts';
import { postgresDatabase, type TestDatabase } from '../../src/notification-service/test/helpers.ts';
import { type Harness, startHarness, TOKEN } from '../../src/notification-service/test/service-harness.ts';
import { RABBITMQ_URL, silentLogger, waitFor } from '../../src/common/test/support.ts';

/**
 * The claim, on the real servers: an exception's preview count equals the alerts it then
 * suppresses on a replay of the same events. Run 1: events → analysis (RabbitMQ, Redis) →
 * notification-service (PostgreSQL); preview two exceptions over the stored alerts and save them
 * (the service writes EXCEPTIONS_FILE). Run 2 replays the very same events through an analysis
 * with fresh window state (so every alert opens again) into a second notification-service on its
 * own database: the alerts it suppresses (metric) and the alerts it no longer stores must be
 * exactly what the previews said.
 */
const run = randomUUID().slice(0, 8);
const dir = mkdtempSync(join(tmpdir(), 'exception-replay-'));
const exceptionsFile = join(dir, 'exceptions.yaml');
const S = 1000;
const used: { names: TestNames[]; dbs: TestDatabase[]; harnesses: Harness[]; analyses: RunningAnalysis[] } = { names: [], dbs: [], harnesses: [], analyses: [] };
const publisher = new TestPublisher();

after(async () => {
  for (const analysis of used.analyses) await analysis.stop().catch(() => undefined);
  for (const harness of used.harnesses) await harness.stop().catch(() => undefined);
  await publisher.close();
  for (const names of used.names) await cleanup(names);
  for (const db of used.dbs) await db.drop();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Burst of three failed logins per (user, host) → ANLY-SEC-001; five users from one address
 * within ten minutes → ANLY-SEC-003 (grouped by details.ip_address). Every burst has its own
 * address, so bursts never add up to a spray.
 */
function stream(): AuditEvent[] {
  const base = Date.now() - 3_600_000;
  const events: AuditEvent[] = [];
  for (let g = 0; g < 12; g++) {
    const user = `u${g}-${run}`;
    const host = `pi-${g % 3}-${run}`;
    for (let i = 0; i < 3; i++) events.push(failedLogin(user, host, base + g * 100 * S + i * S, `10.${g}.0.${i + 1}`));
  }
  for (let s = 0; s < 3; s++) {
    const ip = `198.51.100.${s + 1}`;
    for (let i = 0; i < 5; i++) events.push(failedLogin(`spray${s}-${i}-${run}`, `web-${i}-${run}`, base + 2_000 * S + s * 100 * S + i * 5 * S, ip));
  }
  return events;
}

async function startNotification(names: TestNames): Promise<{ harness: Harness; db: TestDatabase }> {
  const db = await postgresDatabase();
  used.dbs.push(db);
  const broker = new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'exception-replay', queueType: 'quorum' });
  const harness = await startHarness(db, { broker, env: { RABBITMQ_ALERT_QUEUE: names.alertQueue, EXCEPTIONS_FILE: exceptionsFile } });
  used.harnesses.push(harness);
  return { harness, db };
}

interface Row {
  alert_id: string;
  rule_id: string;
  actor_id: string | null;
}

/** This run's stored alerts, by rule. */
async function stored(harness: Harness): Promise<Row[]> {
  const response = await harness.handle.app.inject({ url: '/alerts?limit=500' });
  return (response.json() as Row[]).filter((row) => String(row.actor_id).endsWith(run) || String(row.rule_id) === 'ANLY-SEC-003');
}

async function request(harness: Harness, method: 'POST' | 'GET', url: string, payload?: object) {
  const response = await harness.handle.app.inject({ method, url, ...(payload ? { payload } : {}), headers: { authorization: `Bearer ${TOKEN}` } });
  assert.ok(response.statusCode < 300, `${method} ${url}: ${response.statusCode} ${response.body}`);
  return response.json();
}

function excepted(metrics: string, kind: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('audit_analysis_alerts_excepted_total{') || !line.includes(`kind="${kind}"`)) continue;
    const id = /exception="([^"]+)"/.exec(line)![1]!;
    found.set(id, (found.get(id) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return found;
}

test('an exception\'s preview count equals the alerts it then suppresses on a replay of the same events', async () => {
  const events = stream();
  const expectedAlerts = 12 + 3;

  // Run 1: no exception yet (the notification service creates an empty file at start).
  const first = testNames('exception-replay-1');
  used.names.push(first);
  const { harness: notification1 } = await startNotification(first);
  assert.match(readFileSync(exceptionsFile, 'utf8'), /^exceptions: \[\]$/m);
  const analysis1 = await startTestAnalysis(first, { EXCEPTIONS_FILE: exceptionsFile });
  used.analyses.push(analysis1);
  await publisher.events(first.queue, events);
  const before = await waitFor(async () => {
    const rows = await stored(notification1);
    return rows.length >= expectedAlerts ? rows : undefined;
  }, 30_000, 'the alerts of run 1');
  assert.equal(before.length, expectedAlerts);
  await analysis1.stop();
  used.analyses.pop();

  // Preview, then save, two exceptions: one on the host, one on a dotted group-key field.
  const exceptions = [
    { rule_id: 'ANLY-SEC-001', fields: { host: `pi-1-${run}` } },
    { rule_id: 'ANLY-SEC-003', fields: { 'details.ip_address': '198.51.100.2' } },
  ];
  const previews: { matched: number; alerts: { alert_id: string }[] }[] = [];
  const saved: string[] = [];
  for (const exception of exceptions) {
    previews.push(await request(notification1, 'POST', '/exceptions/preview', { ...exception, days: 1 }));
    const created = await request(notification1, 'POST', '/exceptions', { ...exception, reason: 'expected in the replay test', author: 'replay-test' });
    assert.equal(created.file.written, true);
    saved.push(created.exception.id);
  }
  assert.deepEqual(
    previews.map((p) => p.matched),
    [4, 1],
    'pi-1 carries 4 of the 12 bursts; one of the 3 sprays comes from 198.51.100.2',
  );
  const hiddenIds = new Set(previews.flatMap((p) => p.alerts.map((a) => a.alert_id)));
  assert.equal(hiddenIds.size, 5, 'every matched alert is listed (fewer than the sample size)');

  // Run 2: the same events, fresh window state, a fresh database; the analysis loads the saved file.
  const second = testNames('exception-replay-2');
  used.names.push(second);
  const { harness: notification2 } = await startNotification(second);
  const analysis2 = await startTestAnalysis(second, { EXCEPTIONS_FILE: exceptionsFile });
  used.analyses.push(analysis2);
  assert.equal(analysis2.handle.exceptions?.current.size, 2);
  await publisher.events(second.queue, events);
  await waitFor(async () => ((await publisher.messageCount(second.queue)) === 0 ? true : undefined), 30_000, 'the replay to be consumed');
  const after = await waitFor(async () => {
    const rows = await stored(notification2);
    return rows.length >= expectedAlerts - hiddenIds.size ? rows : undefined;
  }, 30_000, 'the alerts of run 2');
  // Room for any alert that should not come to arrive before the counts are compared.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const final = await stored(notification2);
  assert.equal(final.length, after.length);

  const metrics = await analysis2.handle.registry.metrics();
  const suppressed = excepted(metrics, 'new');
  assert.deepEqual(
    saved.map((id) => suppressed.get(id) ?? 0),
    previews.map((p) => p.matched),
    'each exception suppressed exactly as many alerts as its preview counted',
  );
  assert.equal(excepted(metrics, 'update').size, 0, 'nothing else was held back');
  assert.equal(final.length, before.length - hiddenIds.size, 'the replay stored exactly the previewed alerts fewer');
  assert.deepEqual(
    final.map((r) => r.alert_id).sort(),
    before.map((r) => r.alert_id).filter((id) => !hiddenIds.has(id)).sort(),
    'and exactly the other ones (same ids: same rule, group and episode)',
  );
  for (const exception of exceptions) {
    assert.equal((await request(notification2, 'POST', '/exceptions/preview', { ...exception, days: 1 })).matched, 0, 'nothing left to hide');
  }
});
