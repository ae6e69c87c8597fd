import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { alertLabels, type LabelSource, wireAlertLabels } from '@auditflow/common/contracts';
import { parseExceptionFiles } from '@auditflow/common/exceptions-file';
import type { InjectOptions } from 'fastify';
import { PREVIEW_SAMPLE, PREVIEW_SCAN_LIMIT } from '@auditflow/common/contracts';
import { previewException } from '../src/exceptions/exception-preview.ts';
import { toAlertRecord } from '../src/store/alert-record.ts';
import { makeAlert, postgresDatabase, type TestDatabase } from './helpers.ts';
import { type Harness, startHarness, TOKEN } from './service-harness.ts';

const PROBLEM = /^application\/problem\+json/;
const auth = { authorization: `Bearer ${TOKEN}` };

describe('exceptions API (real PostgreSQL)', () => {
  let db: TestDatabase;
  let harness: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'ns-exceptions-'));
  const file = join(dir, 'exceptions.yaml');
  const now = Date.now();
  const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
  const alerts = [
    makeAlert({ timestamp: at(5), group_key: { user_id: 'backup', server_hostname: 'pi-1' }, triggered_by: { actor_id: 'backup' }, impacted_resource: { server_hostname: 'pi-1' } }),
    makeAlert({ timestamp: at(10), group_key: { user_id: 'backup', server_hostname: 'pi-1' }, triggered_by: { actor_id: 'backup' }, impacted_resource: { server_hostname: 'pi-1' } }),
    makeAlert({ timestamp: at(15), group_key: { user_id: 'eve', server_hostname: 'pi-1' }, triggered_by: { actor_id: 'eve' }, impacted_resource: { server_hostname: 'pi-1' } }),
    // Outside a 1-day window, inside a 3-day one.
    makeAlert({ timestamp: at(2 * 24 * 60), group_key: { user_id: 'backup', server_hostname: 'pi-1' }, triggered_by: { actor_id: 'backup' }, impacted_resource: { server_hostname: 'pi-1' } }),
    // Another rule: never counted for ANLY-SEC-001.
    makeAlert({ timestamp: at(5), analysis_rule: { rule_id: 'ANLY-SEC-003' }, triggered_by: { actor_id: 'backup' }, impacted_resource: { server_hostname: 'pi-1' } }),
  ];
  const inject = (options: InjectOptions) => harness.handle.app.inject(options);
  const post = (url: string, payload: unknown, headers: Record<string, string> = auth) => inject({ method: 'POST', url, payload: payload as object, headers });

  before(async () => {
    db = await postgresDatabase();
    harness = await startHarness(db, { env: { EXCEPTIONS_FILE: file } });
    const seed = await db.openStore();
    await seed.upsertAlerts(alerts.map(toAlertRecord));
    await seed.close();
  });
  after(async () => {
    await harness.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the labels of a stored row are the labels of the alert on the wire (the preview and the analysis see the same)', async () => {
    const tricky = makeAlert({
      alert_id: 'ABCDEF01-2345-4678-89AB-CDEF01234567',
      group_key: { user_id: 'u', 'details.ip_address': '10.0.0.9', severity: 'LOW' },
      metadata: { environment: 'lab', labels: { team: 'infra', host: 'forged', n: 1 } },
      source_service_name: '',
    });
    const store = await db.openStore();
    try {
      await store.upsertAlerts([toAlertRecord(tricky)]);
      const row = JSON.parse((await store.getAlert(tricky.alert_id.toLowerCase()))!) as LabelSource;
      assert.deepEqual(alertLabels(row), wireAlertLabels(tricky));
      assert.deepEqual(alertLabels(toAlertRecord(tricky)), wireAlertLabels(tricky));
      assert.equal(wireAlertLabels(tricky)['severity'], 'CRITICAL', 'fixed names win over group-key fields');
      assert.equal(wireAlertLabels(tricky)['details.ip_address'], '10.0.0.9');
    } finally {
      await store.close();
    }
  });

  test('a missing EXCEPTIONS_FILE is created at start', () => {
    assert.match(readFileSync(file, 'utf8'), /^exceptions: \[\]$/m);
  });

  test('the preview counts the stored alerts of the rule in the window that the exception matches', async () => {
    const body = (fields: Record<string, string>, days: number) => ({ rule_id: 'ANLY-SEC-001', fields, days });
    const one = (await post('/exceptions/preview', body({ user: 'backup', host: 'pi-1' }, 1))).json();
    assert.equal(one.matched, 2);
    assert.equal(one.scanned, 3, 'only the rule and the window are read');
    assert.equal(one.truncated, false);
    assert.deepEqual(one.alerts.map((a: { alert_id: string }) => a.alert_id), [alerts[0]!.alert_id, alerts[1]!.alert_id]);
    assert.equal(one.window.days, 1);
    assert.equal((await post('/exceptions/preview', body({ user: 'backup', host: 'pi-1' }, 3))).json().matched, 3);
    assert.equal((await post('/exceptions/preview', body({ host: 'pi-1' }, 1))).json().matched, 3);
    assert.equal((await post('/exceptions/preview', body({ host: 'pi-1', 'details.ip_address': '1.2.3.4' }, 1))).json().matched, 0);
    assert.equal((await post('/exceptions/preview', body({ user_id: 'eve' }, 1))).json().matched, 1, 'group-key fields are labels too');
  });

  test('saving stores it with author, reason and expiry, answers the YAML fragment and rewrites the file atomically', async () => {
    const expires = new Date(now + 7 * 86_400_000).toISOString();
    const response = await post('/exceptions', { rule_id: 'ANLY-SEC-001', fields: { user: 'backup', host: 'pi-1' }, reason: 'nightly backup job', author: 'ann', expires_at: expires });
    assert.equal(response.statusCode, 201, response.body);
    const saved = response.json();
    assert.equal(saved.exception.author, 'ann');
    assert.equal(saved.exception.active, true);
    assert.equal(Date.parse(saved.exception.expires_at), Date.parse(expires));
    assert.match(saved.yaml, /^ {2}- id: [0-9a-f-]{36}\n {4}rule_id: ANLY-SEC-001\n {4}fields:\n {6}host: pi-1\n {6}user: backup\n {4}author: ann\n {4}reason: nightly backup job\n/);
    assert.deepEqual(saved.file, { path: file, written: true });
    const withoutAuthor = await post('/exceptions', { rule_id: 'ANLY-SEC-003', fields: { user: 'backup' }, reason: 'r' });
    assert.equal(withoutAuthor.json().exception.author, 'test', 'the token name when the body names no author');

    const exported = await inject({ url: '/exceptions.yaml' });
    assert.match(String(exported.headers['content-type']), /^application\/yaml/);
    assert.equal(readFileSync(file, 'utf8'), exported.body, 'the file is the export');
    const entries = parseExceptionFiles([{ text: exported.body, fileName: 'e.yaml' }], () => true, 'e.yaml');
    assert.deepEqual(entries.map((e) => e.rule_id), ['ANLY-SEC-001', 'ANLY-SEC-003'], 'by rule');
    assert.equal(entries[0]!.expires_at, saved.exception.expires_at);
    const listed = (await inject({ url: '/exceptions' })).json();
    assert.equal(listed.exceptions.length, 2);

    const deleted = await inject({ method: 'DELETE', url: `/exceptions/${saved.exception.id}`, headers: auth });
    assert.equal(deleted.statusCode, 200);
    assert.equal(parseExceptionFiles([{ text: readFileSync(file, 'utf8'), fileName: 'e.yaml' }], () => true, 'e.yaml').length, 1);
    const again = await inject({ method: 'DELETE', url: `/exceptions/${saved.exception.id}`, headers: auth });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().code, 'AF_EXCEPTION_NOT_FOUND');
  });

  test('bad input is a 4xx problem+json naming what is wrong', async () => {
    const cases: [InjectOptions, number, string, RegExp?][] = [
      [{ method: 'POST', url: '/exceptions', headers: auth, payload: { rule_id: 'R', fields: { host: 'x' } } }, 400, 'AF_INVALID_BODY', /reason/],
      [{ method: 'POST', url: '/exceptions', headers: auth, payload: { rule_id: 'R', fields: {}, reason: 'r' } }, 400, 'AF_INVALID_BODY', /fields/],
      [{ method: 'POST', url: '/exceptions', headers: auth, payload: { rule_id: 'R', fields: { 'bad name': 'x' }, reason: 'r' } }, 400, 'AF_INVALID_BODY'],
      [{ method: 'POST', url: '/exceptions', headers: auth, payload: { rule_id: 'R', fields: { host: '' }, reason: 'r' } }, 400, 'AF_INVALID_BODY'],
      [{ method: 'POST', url: '/exceptions', headers: auth, payload: { rule_id: 'R', fields: { host: 'x' }, reason: 'r', colour: 'red' } }, 400, 'AF_INVALID_BODY'],
      [{ method: 'POST', url: '/exceptions', headers: auth, payload: { rule_id: 'R', fields: { rule_id: 'x' }, reason: 'r' } }, 400, 'AF_INVALID_EXCEPTION', /rule_id/],
      [{ method: 'POST', url: '/exceptions', headers: auth, payload: { rule_id: 'R', fields: { host: 'x' }, reason: 'r', expires_at: '2001-01-01T00:00:00Z' } }, 400, 'AF_INVALID_EXCEPTION', /future/],
      [{ method: 'POST', url: '/exceptions', headers: auth, payload: { rule_id: 'R', fields: { host: 'x' }, reason: 'r', expires_at: 'tomorrow' } }, 400, 'AF_INVALID_BODY'],
      [{ method: 'POST', url: '/exceptions', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'x' }, 415, 'AF_UNSUPPORTED_MEDIA_TYPE'],
      [{ method: 'POST', url: '/exceptions', payload: { rule_id: 'R', fields: { host: 'x' }, reason: 'r' } }, 401, 'AF_UNAUTHORIZED'],
      [{ method: 'POST', url: '/exceptions/preview', payload: { rule_id: 'R', fields: { host: 'x' }, days: 0 } }, 400, 'AF_INVALID_BODY', /days/],
      [{ method: 'POST', url: '/exceptions/preview', payload: { rule_id: 'R', fields: { host: 'x' }, days: 91 } }, 400, 'AF_INVALID_BODY', /days/],
      [{ method: 'POST', url: '/exceptions/preview', payload: { rule_id: 'R', fields: { alert_id: 'x' } } }, 400, 'AF_INVALID_EXCEPTION'],
      [{ method: 'DELETE', url: '/exceptions/has%20space', headers: auth }, 400, 'AF_INVALID_PARAMETER'],
      [{ method: 'DELETE', url: '/exceptions/unknown-id', headers: auth }, 404, 'AF_EXCEPTION_NOT_FOUND'],
    ];
    for (const [options, status, code, detail] of cases) {
      const response = await inject(options);
      const label = `${options.method} ${options.url} ${JSON.stringify(options.payload)}`;
      assert.equal(response.statusCode, status, `${label}: ${response.body}`);
      assert.match(String(response.headers['content-type']), PROBLEM, label);
      assert.equal(response.json().code, code, label);
      // The detail or the per-field errors name the field.
      if (detail) assert.match(response.body, detail, label);
    }
  });

  test('where the file is read-only (a ConfigMap), saving stores the exception and says the file was not written', async () => {
    // A read-only file system, like a ConfigMap mount: no write, not even for root.
    const path = '/proc/self/exceptions.yaml';
    const readOnly = await startHarness(db, { env: { EXCEPTIONS_FILE: path } });
    try {
      const response = await readOnly.handle.app.inject({ method: 'POST', url: '/exceptions', headers: auth, payload: { rule_id: 'R', fields: { host: 'x' }, reason: 'r' } });
      assert.equal(response.statusCode, 201);
      assert.deepEqual(response.json().file, { path, written: false });
      assert.ok((await readOnly.handle.app.inject({ url: '/exceptions' })).json().exceptions.some((e: { id: string }) => e.id === response.json().exception.id));
    } finally {
      await readOnly.stop();
    }
  });

  test('the preview reads at most PREVIEW_SCAN_LIMIT alerts of the rule and says when it stopped short', async () => {
    const big = await postgresDatabase();
    const store = await big.openStore();
    try {
      const base = Date.now();
      for (let b = 0; b < 21; b++) {
        await store.upsertAlerts(
          Array.from({ length: 1000 }, (_, i) => {
            const n = b * 1000 + i;
            const host = `h${n % 7}`;
            return toAlertRecord(makeAlert({ timestamp: new Date(base - n * 1000).toISOString(), impacted_resource: { server_hostname: host } }));
          }),
        );
      }
      const preview = await previewException(store.exceptions, { rule_id: 'ANLY-SEC-001', fields: { host: 'h3' } }, 1, new Date(base + 1000));
      assert.equal(preview.scanned, PREVIEW_SCAN_LIMIT);
      assert.equal(preview.truncated, true);
      assert.equal(preview.matched, Math.floor(PREVIEW_SCAN_LIMIT / 7) + (PREVIEW_SCAN_LIMIT % 7 > 3 ? 1 : 0), 'every 7th of the newest 20000');
      assert.equal(preview.alerts.length, PREVIEW_SAMPLE);
      // A window that starts 10000 s back: alerts 0..10000, under the bound, read whole.
      const narrow = await previewException(store.exceptions, { rule_id: 'ANLY-SEC-001', fields: { host: 'h3' } }, 1, new Date(base + 86_400_000 - 10_000_000));
      assert.equal(narrow.truncated, false, 'a window under the bound is read whole');
      assert.equal(narrow.scanned, 10_001);
      assert.equal(narrow.matched, Math.floor((10_000 - 3) / 7) + 1);
    } finally {
      await store.close();
      await big.drop();
    }
  });
});
