import { randomUUID } from 'node:crypto';
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

/**
 * The original service's INSERT (reference section 4.3): every column of its table but
 * received_at, in its order, no ON CONFLICT. The reference lists the columns rather than
 * quoting the statement, so this is that statement rebuilt from the list; the values are what
 * psycopg sends for its payload mapping (UUIDs and the timestamp as text, JSONB as JSON text).
 */
const ORIGINAL_INSERT = `INSERT INTO alerts (
  alert_id, correlation_id, timestamp, alert_name, alert_type, severity, description,
  source_service_name, rule_id, rule_name, actor_type, actor_id, client_ip, resource_type,
  resource_id, server_hostname, action_observed, analysis_rule_details, triggered_by_details,
  impacted_resource_details, metadata, raw_event_data
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)`;

/** The original's indexes: name → the column list of its definition. */
const ORIGINAL_INDEXES: Record<string, RegExp> = {
  idx_alerts_timestamp: /\("timestamp" DESC\)/,
  idx_alerts_alert_type: /btree \(alert_type\)/,
  idx_alerts_severity: /btree \(severity\)/,
  idx_alerts_actor_id: /btree \(actor_id\)/,
  idx_alerts_server_hostname: /btree \(server_hostname\)/,
  idx_alerts_rule_name: /btree \(rule_name\)/,
  idx_alerts_metadata_gin: /gin \(metadata\)/,
  idx_alerts_raw_event_data_gin: /gin \(raw_event_data\)/,
};

function originalRow(alertId: string, eventId: string): unknown[] {
  const rule = { rule_id: 'ANLY-SEC-001', rule_name: 'Failed Login Burst Detection', rule_description: 'Detects 3 failed logins within 60 seconds.' };
  const actor = { actor_type: 'USER', actor_id: 'attacker_bob', client_ip: null };
  const resource = { resource_type: 'SERVER', resource_id: 'prod-db-02', server_hostname: 'prod-db-02' };
  const metadata = { tags: ['brute-force', 'authentication', 'critical'], environment: 'DEVELOPMENT' };
  const event = { event_id: eventId, event_type: 'user_login', action_result: 'FAILURE', user_id: 'attacker_bob' };
  return [
    alertId, eventId, '2025-07-02T20:00:00+00:00', 'Multiple Failed Login Attempts', 'SECURITY', 'CRITICAL',
    "3 or more failed login attempts for user 'attacker_bob' on 'prod-db-02' within 60 seconds.",
    'audit-event-generator', rule.rule_id, rule.rule_name, 'USER', 'attacker_bob', null, 'SERVER', 'prod-db-02', 'prod-db-02',
    'LOGIN_FAILURE', JSON.stringify(rule), JSON.stringify(actor), JSON.stringify(resource), JSON.stringify(metadata),
    JSON.stringify(event),
  ];
}

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

    // The original service writing to a migrated database (reference section 4.3).
    test("the original's idx_alerts_* indexes exist on their columns", async () => {
      const { rows } = await db.admin.query<{ indexname: string; indexdef: string }>(
        `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'alerts' AND schemaname = current_schema() AND indexname LIKE 'idx_alerts_%'`,
      );
      const found = new Map(rows.map((row) => [row.indexname, row.indexdef]));
      for (const [name, columns] of Object.entries(ORIGINAL_INDEXES)) {
        assert.match(found.get(name) ?? `${name} missing`, columns, name);
      }
    });

    test('its INSERT succeeds, and the rewrite reads the row with the lifecycle defaults', async () => {
      const alertId = randomUUID();
      const eventId = randomUUID();
      await db.admin.query(ORIGINAL_INSERT, originalRow(alertId, eventId));
      const row = JSON.parse((await store.getAlert(alertId))!);
      assert.equal(row.alert_id, alertId);
      assert.equal(row.correlation_id, eventId);
      assert.equal(row.timestamp, '2025-07-02T20:00:00.000000Z');
      assert.equal(row.first_seen, row.timestamp);
      assert.equal(row.last_seen, row.timestamp);
      assert.equal(row.status, 'open');
      assert.equal(row.count, 1);
      assert.equal(row.client_ip, null);
      assert.equal(row.raw_event_data.event_id, eventId);
      assert.equal(row.analysis_rule_details.rule_id, 'ANLY-SEC-001');
      assert.match(row.received_at, /Z$/);
      const page = await store.listAlerts({ limit: 10, offset: 0, actorId: 'attacker_bob' });
      assert.ok(page.rows.some((text) => JSON.parse(text).alert_id === alertId), 'listed');
    });

    test('a second INSERT of the same alert_id is the unique violation the original acks as a duplicate', async () => {
      const alertId = randomUUID();
      await db.admin.query(ORIGINAL_INSERT, originalRow(alertId, randomUUID()));
      await assert.rejects(db.admin.query(ORIGINAL_INSERT, originalRow(alertId, randomUUID())), (error: Error & { code?: string; cause?: { code?: string } }) => {
        const code = error.code ?? error.cause?.code;
        return code === '23505' || /duplicate key|unique/i.test(error.message);
      });
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

    test('valid IPv4, IPv6 and CIDR values are kept; any other client_ip text is kept in triggered_by_details', async () => {
      const v6 = record({ triggered_by: { actor_type: 'USER', actor_id: 'a', client_ip: '2001:db8::1' } });
      const cidr = record({ triggered_by: { actor_type: 'USER', actor_id: 'a', client_ip: '10.0.0.0/8' } });
      const text = record({ triggered_by: { actor_type: 'USER', actor_id: 'a', client_ip: 'not-an-ip' } });
      assert.deepEqual(await store.upsertAlerts([v6, cidr, text]), ['inserted', 'inserted', 'inserted']);
      assert.equal(JSON.parse((await store.getAlert(v6.alert_id))!).client_ip, '2001:db8::1');
      assert.equal(JSON.parse((await store.getAlert(cidr.alert_id))!).client_ip, '10.0.0.0/8');
      const kept = JSON.parse((await store.getAlert(text.alert_id))!);
      assert.equal(kept.client_ip, null);
      assert.equal(kept.triggered_by_details.client_ip, 'not-an-ip');
    });

    test('a folded repeat moves correlation_id and raw_event_data together: both name the latest event', async () => {
      const first = randomUUID();
      const latest = randomUUID();
      const opened = record({ correlation_id: first, raw_event_data: { event_id: first }, count: 1 });
      const lastSeen = new Date(Date.parse(opened.timestamp) + 30_000).toISOString();
      const folded = { ...opened, correlation_id: latest, raw_event_data: { event_id: latest }, count: 2, last_seen: lastSeen };
      await store.upsertAlerts([opened]);
      assert.deepEqual(await store.upsertAlerts([folded]), ['updated']);
      const row = JSON.parse((await store.getAlert(opened.alert_id))!);
      assert.equal(row.correlation_id, latest);
      assert.equal(row.raw_event_data.event_id, latest);
      // A version that arrives late (an earlier last_seen) moves neither.
      const late = randomUUID();
      await store.upsertAlerts([{ ...opened, correlation_id: late, raw_event_data: { event_id: late }, count: 3 }]);
      const after = JSON.parse((await store.getAlert(opened.alert_id))!);
      assert.equal(after.count, 3);
      assert.equal(after.correlation_id, latest);
      assert.equal(after.raw_event_data.event_id, latest);
    });

    test('the largest count the contract allows is stored as sent', async () => {
      const big = record({ count: 2_147_483_647 });
      await store.upsertAlerts([big]);
      assert.equal(JSON.parse((await store.getAlert(big.alert_id))!).count, 2_147_483_647);
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
