import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import type { ExceptionEntry } from '@auditflow/common/contracts';
import { renderExceptionsFile } from '@auditflow/common/exceptions-file';
import { waitFor } from '../../common/test/support.ts';
import { failedLogin, T0 } from './fixtures.ts';
import { cleanup, QueueCollector, startTestAnalysis, TestPublisher, type TestNames, testNames } from './integration-support.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const run = randomUUID().slice(0, 8);
const dir = mkdtempSync(join(tmpdir(), 'exceptions-'));
const file = join(dir, 'exceptions.yaml');

function entry(id: string, host: string, extra: Partial<ExceptionEntry> = {}): ExceptionEntry {
  return { id, rule_id: 'ANLY-SEC-001', fields: { host }, author: 'test', reason: 'expected in the test', created_at: new Date().toISOString(), ...extra };
}

/** Atomic, like the notification API writes it: a reader never sees half a file. */
function writeExceptions(text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

let bursts = 0;

/**
 * Three failed logins within a minute: one ANLY-SEC-001 alert for (user, host). Each burst has its
 * own source address, so the bursts never add up to a password spray (ANLY-SEC-003).
 */
function burst(host: string, at = T0) {
  const user = `u-${randomUUID().slice(0, 8)}`;
  const ip = `10.99.${bursts++}.1`;
  return [0, 1, 2].map((i) => failedLogin(user, host, at + i * 1000, ip));
}

function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('exceptions in the analysis: suppression, expiry, reload, broken files', () => {
  const publisher = new TestPublisher();
  const used: TestNames[] = [];
  after(async () => {
    await publisher.close();
    for (const names of used) await cleanup(names);
    rmSync(dir, { recursive: true, force: true });
  });

  test('an active exception hides its alerts, an expired one hides nothing, a saved change takes effect without a restart, a broken file keeps the old set', async () => {
    const host = (name: string) => `${name}-${run}`;
    writeExceptions(
      renderExceptionsFile([
        entry('hide-a', host('a')),
        entry('expired-b', host('b'), { expires_at: new Date(Date.now() - 60_000).toISOString() }),
      ]),
    );
    const names = testNames('exceptions');
    used.push(names);
    const analysis = await startTestAnalysis(names, { EXCEPTIONS_FILE: file, EXCEPTIONS_RELOAD_SECONDS: '1' });
    const alerts = new QueueCollector(names.alertQueue);
    const hosts = () => new Set(alerts.alerts.filter((a) => a.analysis_rule?.rule_id === 'ANLY-SEC-001').map((a) => a.impacted_resource?.server_hostname));
    const metrics = () => analysis.handle.registry.metrics();
    try {
      // A marker burst after each step: once its alert is out, everything before it was handled.
      await publisher.events(names.queue, [...burst(host('a')), ...burst(host('b')), ...burst(host('c')), ...burst(host('marker-1'), T0 + 10_000)]);
      await waitFor(() => hosts().has(host('marker-1')) || undefined, 15_000, 'the first marker');
      assert.ok(!hosts().has(host('a')), 'the active exception hid host a');
      assert.ok(hosts().has(host('b')), 'the expired exception hid nothing');
      assert.ok(hosts().has(host('c')));
      let text = await metrics();
      assert.equal(metric(text, 'audit_analysis_alerts_excepted_total', { exception: 'hide-a', kind: 'new', rule_id: 'ANLY-SEC-001' }), 1);
      assert.equal(metric(text, 'audit_analysis_alerts_excepted_total', { exception: 'expired-b' }), 0);
      assert.equal(metric(text, 'audit_analysis_exceptions_active'), 1);

      // Saved while running: picked up by the next poll.
      writeExceptions(renderExceptionsFile([entry('hide-a', host('a')), entry('hide-d', host('d'))]));
      await waitFor(async () => metric(await metrics(), 'audit_analysis_exceptions_reloads_total', { result: 'ok' }) >= 1 || undefined, 10_000, 'the reload');
      await publisher.events(names.queue, [...burst(host('d'), T0 + 20_000), ...burst(host('marker-2'), T0 + 30_000)]);
      await waitFor(() => hosts().has(host('marker-2')) || undefined, 15_000, 'the second marker');
      assert.ok(!hosts().has(host('d')), 'the exception saved at run time hid host d');
      assert.equal(metric(await metrics(), 'audit_analysis_exceptions_active'), 2);

      // A broken file: logged, counted, and the previous exceptions stay in force.
      writeExceptions('exceptions:\n  - id: hide-a\n    rule_id: NO-SUCH-RULE\n');
      await waitFor(async () => metric(await metrics(), 'audit_analysis_exceptions_reloads_total', { result: 'error' }) >= 1 || undefined, 10_000, 'the failed reload');
      text = await metrics();
      assert.equal(metric(text, 'audit_analysis_exceptions_file_valid'), 0);
      await publisher.events(names.queue, [...burst(host('d'), T0 + 40_000), ...burst(host('marker-3'), T0 + 50_000)]);
      await waitFor(() => hosts().has(host('marker-3')) || undefined, 15_000, 'the third marker');
      assert.ok(!hosts().has(host('d')), 'host d is still hidden by the kept exceptions');
      text = await metrics();
      assert.equal(metric(text, 'audit_analysis_alerts_excepted_total', { exception: 'hide-d', kind: 'new' }), 2);
      assert.equal(metric(text, 'audit_analysis_exceptions_reloads_total', { result: 'error' }), 1, 'an unchanged broken file is reported once');
    } finally {
      await alerts.close();
      await analysis.stop();
    }
  });

  test('an invalid exceptions file stops the service with exit 78 naming EXCEPTIONS_FILE and file:line:col', () => {
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'exceptions:\n  - id: x\n    rule_id: NO-SUCH-RULE\n    fields: { host: h }\n    author: me\n    reason: r\n');
    const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(RABBITMQ|REDIS|RULES|EXCEPTIONS)_/.test(key)));
    const result = spawnSync(`${ROOT}node_modules/.bin/node`, ['--conditions=source', 'src/audit-log-analysis/src/main.ts'], {
      cwd: ROOT,
      env: { ...clean, RABBITMQ_HOST: '127.0.0.1', REDIS_HOST: '127.0.0.1', EXCEPTIONS_FILE: broken },
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(result.status, 78);
    assert.match(result.stdout, /EXCEPTIONS_FILE/);
    assert.ok(result.stdout.includes(`${broken}:3:14: unknown rule id 'NO-SUCH-RULE'`), result.stdout);
  });
});
