// The alert row is described once: AlertSchema (the wire contract in @auditflow/common). Rows the
// real PostgreSQL store builds (af_row_json) must validate against it and carry exactly its
// fields, and the columns an alert writes are a slice of it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AlertSchema, contractValidator, StatusHistoryEntrySchema } from '@auditflow/common/contracts';
import { toAlertRecord } from '../src/store/alert-record.ts';
import { ALERT_RECORD_COLUMNS } from '../src/store/alert-sql.ts';
import type { SqlAlertStore } from '../src/store/sql-alert-store.ts';
import { makeAlert, postgresDatabase, type TestDatabase } from './helpers.ts';

const isAlertRow = contractValidator(AlertSchema);
const isHistoryEntry = contractValidator(StatusHistoryEntrySchema);
/** Fields the API adds per request (the silence annotation), not stored. */
const ANNOTATIONS = new Set(['silenced', 'silenced_by']);
const STORED_FIELDS = Object.keys(AlertSchema.properties).filter((name) => !ANNOTATIONS.has(name)).sort();

let db: TestDatabase;
let store: SqlAlertStore;
before(async () => {
  db = await postgresDatabase();
  store = await db.openStore();
});
after(async () => {
  await store.close();
  await db.drop();
});

function assertWireRow(json: string, what: string): Record<string, unknown> {
  const row = JSON.parse(json) as Record<string, unknown>;
  assert.ok(isAlertRow(row), `${what}: ${JSON.stringify(isAlertRow.errors)}`);
  assert.deepEqual(Object.keys(row).sort(), STORED_FIELDS, `${what}: the stored row has exactly the schema's fields`);
  return row;
}

test('every column an alert writes is a field of the wire row', () => {
  const fields = new Set(Object.keys(AlertSchema.properties));
  assert.deepEqual(Object.keys(ALERT_RECORD_COLUMNS).filter((column) => !fields.has(column)), []);
  assert.deepEqual(Object.keys(toAlertRecord(makeAlert())).sort(), Object.keys(ALERT_RECORD_COLUMNS).sort());
});

test('rows stored in PostgreSQL validate against AlertSchema: full, minimal, grouped, folded and acknowledged', async () => {
  const full = makeAlert({ group_key: { 'details.ip_address': '198.51.100.7', user_id: 'bob' }, count: 4, event_ids: ['e1', 'e2'] });
  const minimal = makeAlert({
    description: null,
    source_service_name: null,
    analysis_rule: undefined,
    triggered_by: undefined,
    impacted_resource: undefined,
    action_observed: null,
    metadata: undefined,
  });
  const oddAddress = makeAlert({ triggered_by: { actor_type: 'USER', actor_id: 'eve', client_ip: 'N/A' } });
  await store.upsertAlerts([full, minimal, oddAddress].map(toAlertRecord));
  await store.upsertAlerts([toAlertRecord({ ...full, count: 9, last_seen: new Date(Date.now() + 60_000).toISOString() })]);
  const changed = await store.updateStatus(full.alert_id, { status: 'acknowledged', actor: 'dana', note: 'looking' });
  assert.ok(changed?.changed);
  assertWireRow(changed.json, 'after a status change');

  const rows = new Map<string, Record<string, unknown>>();
  for (const alert of [full, minimal, oddAddress]) {
    const json = await store.getAlert(alert.alert_id);
    assert.ok(json !== undefined, alert.alert_id);
    // GET /alerts/{id} is AlertWithHistory: the row plus its status history.
    const { history, ...row } = JSON.parse(json) as { history: unknown[] };
    for (const entry of history) assert.ok(isHistoryEntry(entry), JSON.stringify(isHistoryEntry.errors));
    rows.set(alert.alert_id, assertWireRow(JSON.stringify(row), alert.alert_id));
  }
  const page = await store.listAlerts({ limit: 10, offset: 0 });
  for (const json of page.rows) assertWireRow(json, 'listed');
  assert.equal(page.rows.length, 3);

  const grown = rows.get(full.alert_id)!;
  assert.equal((JSON.parse((await store.getAlert(full.alert_id))!) as { history: unknown[] }).history.length, 1);
  assert.deepEqual([grown['status'], grown['count'], grown['group_key']], ['acknowledged', 9, { 'details.ip_address': '198.51.100.7', user_id: 'bob' }]);
  assert.deepEqual([rows.get(minimal.alert_id)!['rule_id'], rows.get(minimal.alert_id)!['client_ip']], [null, null]);
  assert.equal(rows.get(oddAddress.alert_id)!['client_ip'], null);
});

test('the validator can fail: a row missing a field or with a wrong type is named', () => {
  const row = { ...JSON.parse(JSON.stringify({ alert_id: 'x' })) };
  assert.equal(isAlertRow(row), false);
  assert.ok(isAlertRow.errors.some((e) => e.message.includes("'correlation_id'")));
});
