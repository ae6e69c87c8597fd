import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Alert } from '@auditflow/common';
import { loadMigrations } from '../src/db/migrations.ts';
import { toAlertRecord } from '../src/store/alert-record.ts';
import type { AlertChange, AlertRecord } from '../src/store/alert-store.ts';
import type { SqlAlertStore } from '../src/store/sql-alert-store.ts';
import { makeAlert, pgliteDatabase, postgresDatabase, type TestDatabase, waitFor } from './helpers.ts';

/**
 * One suite, two databases: the embedded PGlite and the real PostgreSQL run
 * the same migrations and statements and must behave identically.
 */
const ISO_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

const record = (overrides: Record<string, unknown> = {}): AlertRecord => toAlertRecord(makeAlert(overrides));

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`alert store contract: ${kind}`, () => {
    let db: TestDatabase;
    let store: SqlAlertStore;

    before(async () => {
      db = kind === 'pglite' ? await pgliteDatabase() : await postgresDatabase();
      store = await db.openStore();
    });
    after(async () => {
      await store.close();
      await db.drop();
    });

    test('migrations are recorded once and a second run applies nothing', async () => {
      assert.deepEqual(await store.migrate(), []);
      const { rows } = await db.admin.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(
        rows.map((r) => r.version),
        (await loadMigrations()).map((m) => m.version),
      );
    });

    test('the original alerts columns keep their names and types', async () => {
      const { rows } = await db.admin.query<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns
         WHERE table_name = 'alerts' AND table_schema = current_schema()`,
      );
      const types = new Map(rows.map((r) => [r.column_name, r.data_type]));
      assert.equal(types.get('alert_id'), 'uuid');
      assert.equal(types.get('correlation_id'), 'uuid');
      assert.equal(types.get('timestamp'), 'timestamp with time zone');
      assert.equal(types.get('received_at'), 'timestamp with time zone');
      assert.equal(types.get('alert_name'), 'character varying');
      assert.equal(types.get('client_ip'), 'inet');
      assert.equal(types.get('raw_event_data'), 'jsonb');
      for (const added of ['status', 'status_changed_at', 'count', 'first_seen', 'last_seen', 'fingerprint', 'group_key', 'updated_at']) {
        assert.ok(types.has(added), `column ${added}`);
      }
    });

    test('an alert is inserted once; the same id again is a duplicate; a higher count updates the row', async () => {
      const first = record();
      assert.deepEqual(await store.upsertAlerts([first]), ['inserted']);
      assert.deepEqual(await store.upsertAlerts([first]), ['duplicate']);
      const later = { ...first, count: 5, last_seen: new Date(Date.parse(first.last_seen) + 30_000).toISOString() };
      assert.deepEqual(await store.upsertAlerts([later]), ['updated']);
      const row = JSON.parse((await store.getAlert(first.alert_id))!);
      assert.equal(row.count, 5);
      assert.equal(Date.parse(row.last_seen), Date.parse(later.last_seen));
      assert.equal(Date.parse(row.first_seen), Date.parse(first.first_seen));
      // An older, lower repeat never moves the row backwards.
      assert.deepEqual(await store.upsertAlerts([{ ...first, count: 2 }]), ['duplicate']);
      assert.equal(JSON.parse((await store.getAlert(first.alert_id))!).count, 5);
    });

    test('a batch reports each outcome in input order', async () => {
      const a = record();
      const b = record();
      await store.upsertAlerts([a]);
      const outcomes = await store.upsertAlerts([b, a, { ...a, count: 3 }].slice(0, 2));
      assert.deepEqual(outcomes, ['inserted', 'duplicate']);
    });

    test('a row has every original key plus the lifecycle fields, timestamps ISO-8601 with T and Z', async () => {
      const alert = record({ triggered_by: { actor_type: 'USER', actor_id: 'u1', client_ip: 'N/A' } });
      await store.upsertAlerts([alert]);
      const row = JSON.parse((await store.getAlert(alert.alert_id))!);
      for (const key of [
        'alert_id', 'correlation_id', 'timestamp', 'received_at', 'alert_name', 'alert_type', 'severity', 'description',
        'source_service_name', 'rule_id', 'rule_name', 'actor_type', 'actor_id', 'client_ip', 'resource_type', 'resource_id',
        'server_hostname', 'action_observed', 'analysis_rule_details', 'triggered_by_details', 'impacted_resource_details',
        'metadata', 'raw_event_data', 'status', 'status_changed_at', 'status_changed_by', 'status_note', 'count',
        'first_seen', 'last_seen', 'fingerprint', 'group_key', 'updated_at', 'history',
      ]) {
        assert.ok(key in row, `key ${key}`);
      }
      for (const key of ['timestamp', 'received_at', 'first_seen', 'last_seen', 'updated_at']) assert.match(row[key], ISO_Z, key);
      assert.equal(row.client_ip, null, 'an invalid IP is stored as NULL');
      assert.equal(row.status, 'open');
      assert.equal(row.rule_id, 'ANLY-SEC-001');
      assert.deepEqual(row.history, []);
      assert.equal(typeof row.analysis_rule_details, 'object');
    });

    test('the row JSON built by the ingest statement equals the one the trigger builds', async () => {
      const alert = record({ group_key: { user_id: 'u', server_hostname: 'h' }, count: 2 });
      await store.upsertAlerts([alert]);
      const read = async () =>
        (await db.admin.query<{ j: string }>('SELECT row_json AS j FROM alerts WHERE alert_id = $1::uuid', [alert.alert_id])).rows[0]!.j;
      const fromInsert = await read();
      await db.admin.query('UPDATE alerts SET row_json = NULL WHERE alert_id = $1::uuid', [alert.alert_id]);
      assert.equal(await read(), fromInsert);
    });

    test('a typical row keeps its row JSON inline and uncompressed, so a page read never detoasts', async () => {
      // Above the default TOAST target (~2 kB), the size of a real alert with its source event.
      const alert = record({
        raw_event_data: {
          event_id: '3f6c1a52-4d0e-4a4b-9a3e-6f1b2c3d4e5f',
          timestamp: '2025-07-02T20:00:00.000Z',
          source_service: 'audit-event-generator',
          server_hostname: 'prod-web-01',
          event_type: 'user_login',
          severity: 'WARNING',
          user_id: 'attacker_bob',
          action_result: 'FAILURE',
          details: { reason: 'Incorrect password', ip_address: '192.168.1.142', protocol: 'ssh', attempts: [1, 2, 3] },
        },
        metadata: { tags: ['brute-force', 'authentication', 'critical'], environment: 'test', runbook: 'https://runbooks.example/auth' },
      });
      await store.upsertAlerts([alert]);
      const { rows } = await db.admin.query<{ size: number; compression: string | null; target_set: boolean }>(
        `SELECT pg_column_size(a.*) AS size, pg_column_compression(row_json) AS compression,
           EXISTS (SELECT 1 FROM pg_class WHERE oid = 'alerts'::regclass AND 'toast_tuple_target=4080' = ANY (reloptions)) AS target_set
         FROM alerts a WHERE alert_id = $1::uuid`,
        [alert.alert_id],
      );
      assert.ok(rows[0]!.size > 2100, `row of ${rows[0]!.size} bytes`);
      assert.deepEqual({ ...rows[0], size: 0 }, { size: 0, compression: null, target_set: true });
    });

    test('valid IPv4, IPv6 and CIDR values are kept; NUL characters never reach the database', async () => {
      const v6 = record({ triggered_by: { actor_type: 'USER', actor_id: 'a', client_ip: '2001:db8::1' } });
      const cidr = record({ triggered_by: { actor_type: 'USER', actor_id: 'a', client_ip: '10.0.0.0/8' } });
      const nul = record({ description: 'bad\u0000byte', raw_event_data: { 'k\u0000': 'v\u0000', s: '\ud800' } });
      assert.deepEqual(await store.upsertAlerts([v6, cidr, nul]), ['inserted', 'inserted', 'inserted']);
      assert.equal(JSON.parse((await store.getAlert(v6.alert_id))!).client_ip, '2001:db8::1');
      assert.equal(JSON.parse((await store.getAlert(cidr.alert_id))!).client_ip, '10.0.0.0/8');
      assert.equal(JSON.parse((await store.getAlert(nul.alert_id))!).description, 'badbyte');
    });

    describe('listing', () => {
      const host = `host-${kind}-${Date.now()}`;
      const ids: string[] = [];
      before(async () => {
        const records: AlertRecord[] = [];
        for (let i = 0; i < 12; i++) {
          const alert: Alert = makeAlert({
            timestamp: new Date(Date.UTC(2030, 0, 1, 0, 0, i % 6)).toISOString(),
            severity: i % 3 === 0 ? 'WARNING' : 'CRITICAL',
            description: i === 4 ? 'Sensitive file /etc/shadow modified by zed' : 'burst of failures',
            impacted_resource: { resource_type: 'SERVER', resource_id: host, server_hostname: host },
            triggered_by: { actor_type: 'USER', actor_id: i % 2 === 0 ? 'even-user' : 'odd-user', client_ip: null },
          });
          records.push(toAlertRecord(alert));
        }
        await store.upsertAlerts(records);
        ids.push(...records.map((r) => r.alert_id));
      });

      test('newest first, ties broken by alert_id descending, paged by keyset without gaps or repeats', async () => {
        const seen: { timestamp: string; alert_id: string }[] = [];
        let after: { timestamp: string; alertId: string } | undefined;
        for (let pageNo = 0; pageNo < 10; pageNo++) {
          const page = await store.listAlerts({ host: [host][0]!, limit: 5, offset: 0, ...(after ? { after } : {}) });
          seen.push(...page.rows.map((row) => JSON.parse(row)));
          if (!page.next) break;
          const last = JSON.parse(page.rows.at(-1)!);
          assert.deepEqual(page.next, { timestamp: last.timestamp, alertId: last.alert_id });
          after = page.next;
        }
        assert.equal(seen.length, 12);
        assert.equal(new Set(seen.map((r) => r.alert_id)).size, 12);
        const sorted = [...seen].sort((a, b) =>
          a.timestamp === b.timestamp ? (a.alert_id < b.alert_id ? 1 : -1) : a.timestamp < b.timestamp ? 1 : -1,
        );
        assert.deepEqual(seen, sorted);
      });

      test('filters: severity list, user, status, rule, time window, text', async () => {
        const count = async (filters: object) =>
          (await store.listAlerts({ host, limit: 100, offset: 0, ...filters })).count;
        assert.equal(await count({ severity: ['WARNING'] }), 4);
        assert.equal(await count({ severity: ['WARNING', 'CRITICAL'] }), 12);
        assert.equal(await count({ actorId: 'even-user' }), 6);
        assert.equal(await count({ status: ['open'] }), 12);
        assert.equal(await count({ status: ['resolved'] }), 0);
        assert.equal(await count({ ruleId: ['ANLY-SEC-001'] }), 12);
        assert.equal(await count({ since: new Date(Date.UTC(2030, 0, 1, 0, 0, 3)) }), 6);
        assert.equal(await count({ until: new Date(Date.UTC(2030, 0, 1, 0, 0, 1)) }), 2);
        assert.equal(await count({ text: ['shad'] }), 1);
        assert.equal(await count({ text: ['etc', 'zed'] }), 1);
        assert.equal(await count({ text: ['nomatchword'] }), 0);
        assert.equal(await count({ offset: 10 }), 2);
      });

      test('stats count by severity, status and rule, with a gap-filled timeline', async () => {
        const stats = await store.stats({
          host,
          since: new Date(Date.UTC(2029, 11, 31, 23, 0, 0)),
          until: new Date(Date.UTC(2030, 0, 1, 2, 0, 0)),
          bucket: 'hour',
          topRules: 10,
        });
        assert.equal(stats.total, 12);
        assert.deepEqual(stats.by_severity, { CRITICAL: 8, WARNING: 4 });
        assert.deepEqual(stats.by_status, { open: 12, acknowledged: 0, resolved: 0 });
        assert.deepEqual(stats.by_rule, [{ rule_id: 'ANLY-SEC-001', rule_name: 'Failed Login Burst Detection', count: 12 }]);
        assert.deepEqual(
          stats.timeline.map((b) => b.bucket),
          ['2029-12-31T23:00:00.000Z', '2030-01-01T00:00:00.000Z', '2030-01-01T01:00:00.000Z'],
        );
        assert.deepEqual(stats.timeline[1]!.counts, { CRITICAL: 8, WARNING: 4 });
        assert.deepEqual(stats.timeline[0]!.counts, {});
      });
    });

    test('a status change is written with its history row; the same status again changes nothing', async () => {
      const alert = record();
      await store.upsertAlerts([alert]);
      const result = await store.updateStatus(alert.alert_id, { status: 'acknowledged', actor: 'alice', note: 'looking' });
      assert.ok(result?.changed);
      assert.equal(result.previous, 'open');
      const row = JSON.parse(result.json);
      assert.equal(row.status, 'acknowledged');
      assert.equal(row.status_changed_by, 'alice');
      assert.equal(row.status_note, 'looking');
      assert.match(row.status_changed_at, ISO_Z);
      const again = await store.updateStatus(alert.alert_id, { status: 'acknowledged', actor: 'alice' });
      assert.equal(again?.changed, false);
      await store.updateStatus(alert.alert_id, { status: 'resolved', actor: 'bob' });
      const detail = JSON.parse((await store.getAlert(alert.alert_id))!);
      assert.deepEqual(
        detail.history.map((h: { from_status: string; to_status: string; actor: string }) => [h.from_status, h.to_status, h.actor]),
        [
          ['open', 'acknowledged', 'alice'],
          ['acknowledged', 'resolved', 'bob'],
        ],
      );
      // A later repeat of the alert keeps the lifecycle status.
      await store.upsertAlerts([{ ...alert, count: 9 }]);
      assert.equal(JSON.parse((await store.getAlert(alert.alert_id))!).status, 'resolved');
      assert.equal(await store.updateStatus('00000000-0000-4000-8000-000000000000', { status: 'open', actor: 'x' }), undefined);
      assert.equal(await store.getAlert('00000000-0000-4000-8000-000000000000'), undefined);
    });

    test('subscribers see created and updated rows after commit', async () => {
      const changes: AlertChange[] = [];
      const unsubscribe = await store.subscribe((change) => changes.push(change));
      try {
        const alert = record();
        await store.upsertAlerts([alert]);
        await store.updateStatus(alert.alert_id, { status: 'acknowledged', actor: 'carol' });
        await waitFor(() => (changes.filter((c) => c.alertId === alert.alert_id).length >= 2 ? true : undefined), 10_000, 'changes');
        const mine = changes.filter((c) => c.alertId === alert.alert_id);
        assert.equal(mine[0]!.kind, 'created');
        assert.equal(mine[1]!.kind, 'updated');
        assert.equal(JSON.parse(mine[1]!.json).status, 'acknowledged');
      } finally {
        await unsubscribe();
      }
    });

    test('a change made through another store (replica) reaches this store’s subscribers', async () => {
      const other = await db.openStore({ applicationName: `${db.schema ?? 'pglite'}-replica` });
      const changes: AlertChange[] = [];
      const unsubscribe = await store.subscribe((change) => changes.push(change));
      try {
        const alert = record();
        await other.upsertAlerts([alert]);
        await waitFor(() => changes.find((c) => c.alertId === alert.alert_id), 10_000, 'cross-replica change');
      } finally {
        await unsubscribe();
        await other.close();
      }
    });

    test('purge deletes old alerts and their history in bounded batches', async () => {
      const old = [0, 1, 2, 3, 4].map((i) => record({ timestamp: new Date(Date.UTC(2001, 0, 1, 0, 0, i)).toISOString() }));
      await store.upsertAlerts(old);
      await store.updateStatus(old[0]!.alert_id, { status: 'resolved', actor: 'x' });
      const cutoff = new Date(Date.UTC(2002, 0, 1));
      assert.equal(await store.purgeOlderThan(cutoff, 3), 3);
      assert.equal(await store.purgeOlderThan(cutoff, 3), 2);
      assert.equal(await store.purgeOlderThan(cutoff, 3), 0);
      const { rows } = await db.admin.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM alert_status_history WHERE alert_id = $1::uuid',
        [old[0]!.alert_id],
      );
      assert.equal(rows[0]!.n, 0);
    });

    test('check() answers while the database is up', async () => {
      await store.check();
    });
  });
}
