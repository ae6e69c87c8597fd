import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { makeAlert, postgresDatabase, type TestDatabase } from './helpers.ts';
import { type Harness, startHarness, TOKEN } from './service-harness.ts';
import { toAlertRecord } from '../src/store/alert-record.ts';

/** Whatever a client sends, the answer is a 2xx or a 4xx problem, never a 5xx. */
describe('API fuzzing (fast-check, real PostgreSQL)', () => {
  let db: TestDatabase;
  let harness: Harness;
  const ids: string[] = [];

  before(async () => {
    db = await postgresDatabase();
    harness = await startHarness(db);
    const records = Array.from({ length: 20 }, () => toAlertRecord(makeAlert()));
    const seed = await db.openStore();
    await seed.upsertAlerts(records);
    await seed.close();
    ids.push(...records.map((r) => r.alert_id));
  });
  after(async () => {
    await harness.stop();
    await db.drop();
  });

  const PARAMS = ['limit', 'offset', 'cursor', 'severity', 'status', 'rule_id', 'user', 'host', 'since', 'until', 'q', 'bucket'];
  const value = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.integer().map(String),
    fc.double().map(String),
    fc.constantFrom('', '0', '-1', '500', '501', 'CRITICAL,INFO', 'open,resolved', '2025-07-01', '2025-07-01T10:00:00+05:30', 'null'),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.base64String({ maxLength: 60 }),
  );
  const query = fc.array(fc.tuple(fc.oneof(fc.constantFrom(...PARAMS), fc.string({ maxLength: 8 })), value), { maxLength: 6 });

  test('GET /alerts and /alerts/stats with arbitrary query parameters', async () => {
    await fc.assert(
      fc.asyncProperty(query, fc.constantFrom('/alerts', '/alerts/stats'), async (pairs, path) => {
        const search = new URLSearchParams(pairs).toString();
        const response = await harness.handle.app.inject({ url: `${path}?${search}` });
        assert.ok(response.statusCode < 500, `${response.statusCode} for ${path}?${search}: ${response.body}`);
        if (response.statusCode >= 400) assert.match(String(response.headers['content-type']), /problem\+json/);
      }),
      { numRuns: 300 },
    );
  });

  test('raw, possibly malformed query strings and ids', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 60 }), fc.string({ maxLength: 40 }), async (raw, id) => {
        const list = await harness.handle.app.inject({ url: `/alerts?${raw}` });
        assert.ok(list.statusCode < 500, `${list.statusCode} for /alerts?${raw}`);
        const one = await harness.handle.app.inject({ url: `/alerts/${encodeURIComponent(id)}` });
        assert.ok(one.statusCode < 500, `${one.statusCode} for /alerts/${id}`);
      }),
      { numRuns: 300 },
    );
  });

  test('PATCH /alerts/{id} with arbitrary bodies', async () => {
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record(
        {
          status: fc.oneof(fc.constantFrom('open', 'acknowledged', 'resolved'), fc.string({ maxLength: 12 }), fc.integer()),
          note: fc.oneof(fc.string({ maxLength: 2100 }), fc.string({ unit: 'binary', maxLength: 50 }), fc.constant(null), fc.integer()),
          actor: fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.constant(null)),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom(...ids.slice(0, 5), 'bad-id'), async (payload, id) => {
        const response = await harness.handle.app.inject({
          method: 'PATCH',
          url: `/alerts/${id}`,
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          payload: JSON.stringify(payload),
        });
        assert.ok(response.statusCode < 500, `${response.statusCode} for ${JSON.stringify(payload)?.slice(0, 200)}: ${response.body}`);
        if (response.statusCode === 200) assert.ok(['open', 'acknowledged', 'resolved'].includes(response.json().status));
      }),
      { numRuns: 300 },
    );
  });
});
