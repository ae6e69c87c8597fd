import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { SqlAlertStore } from '../src/store/sql-alert-store.ts';
import { pgliteDatabase, postgresDatabase, type TestDatabase } from './helpers.ts';

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

for (const kind of ['postgres', 'pglite'] as const) {
  describe(`the original service writing to a migrated database (${kind})`, () => {
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
  });
}
