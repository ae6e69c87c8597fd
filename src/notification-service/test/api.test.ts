import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import { toAlertRecord } from '../src/store/alert-record.ts';
import type { AlertRecord } from '../src/store/alert-store.ts';
import { makeAlert, postgresDatabase, type TestDatabase } from './helpers.ts';
import { type Harness, startHarness, TOKEN } from './service-harness.ts';

const UNKNOWN_ID = '7d9f3c1e-0000-4000-8000-000000000001';
const PROBLEM = /^application\/problem\+json/;

describe('REST API (real PostgreSQL)', () => {
  let db: TestDatabase;
  let harness: Harness;
  const host = 'api-host-01';
  const records: AlertRecord[] = [];

  before(async () => {
    db = await postgresDatabase();
    harness = await startHarness(db);
    for (let i = 0; i < 7; i++) {
      records.push(
        toAlertRecord(
          makeAlert({
            timestamp: new Date(Date.UTC(2031, 4, 1, 12, i)).toISOString(),
            severity: i < 3 ? 'CRITICAL' : 'INFO',
            impacted_resource: { resource_type: 'SERVER', resource_id: host, server_hostname: i === 6 ? 'other' : host },
          }),
        ),
      );
    }
    const seed = await db.openStore();
    await seed.upsertAlerts(records);
    await seed.close();
  });
  after(async () => {
    await harness.stop();
    await db.drop();
  });

  const inject = (options: InjectOptions) => harness.handle.app.inject(options);

  describe('GET /alerts', () => {
    test('a plain JSON array, newest first', async () => {
      const response = await inject({ url: '/alerts?limit=3' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^application\/json/);
      const rows = response.json();
      assert.ok(Array.isArray(rows));
      assert.equal(rows.length, 3);
      assert.equal(rows[0].alert_id, records[6]!.alert_id);
      assert.ok(response.headers['x-next-cursor']);
      assert.match(String(response.headers.link), /^<\/alerts\?limit=3&cursor=[A-Za-z0-9_-]+>; rel="next"$/);
    });

    test('one row and no rows are JSON arrays too; only a full page has a next cursor', async () => {
      const one = await inject({ url: '/alerts?limit=1' });
      assert.equal(one.json().length, 1);
      assert.ok(one.headers['x-next-cursor']);
      const none = await inject({ url: '/alerts?host=no-such-host-anywhere' });
      assert.equal(none.body, '[]');
      assert.equal(none.headers['x-next-cursor'], undefined);
    });

    test('following X-Next-Cursor walks every row once', async () => {
      const seen: string[] = [];
      let url: string | undefined = `/alerts?host=${host}&limit=2`;
      while (url) {
        const response = await inject({ url });
        assert.equal(response.statusCode, 200);
        seen.push(...response.json().map((r: { alert_id: string }) => r.alert_id));
        const link = response.headers.link as string | undefined;
        url = link ? /^<([^>]+)>/.exec(link)![1] : undefined;
      }
      assert.deepEqual(
        seen,
        records
          .slice(0, 6)
          .reverse()
          .map((r) => r.alert_id),
      );
    });

    test('filters combine (severity list, host, since/until, q)', async () => {
      const ids = async (query: string) =>
        (await inject({ url: `/alerts?${query}` })).json().map((r: { alert_id: string }) => r.alert_id);
      assert.equal((await ids(`severity=CRITICAL&host=${host}`)).length, 3);
      assert.equal((await ids(`severity=CRITICAL,INFO&host=${host}`)).length, 6);
      assert.equal((await ids('host=other')).length, 1);
      assert.equal((await ids(`host=${host}&since=2031-05-01T12:02:00Z&until=2031-05-01T12:04:00Z`)).length, 2);
      assert.equal((await ids(`host=${host}&status=open&user=attacker_bob&rule_id=ANLY-SEC-001`)).length, 6);
      assert.equal((await ids(`host=${host}&q=failed+LOGIN`)).length, 6);
      assert.equal((await ids(`host=${host}&q=zzzzunknown`)).length, 0);
      assert.equal((await ids(`host=${host}&offset=5`)).length, 1);
      assert.equal((await ids('limit=&offset=')).length > 0, true, 'empty values are ignored');
    });

    for (const [query, code, detail] of [
      ['limit=abc', 'AF_INVALID_LIMIT', 'Limit must be an integer.'],
      ['limit=1.5', 'AF_INVALID_LIMIT', 'Limit must be an integer.'],
      ['limit=0', 'AF_INVALID_LIMIT', 'Limit must be a positive integer.'],
      ['limit=-3', 'AF_INVALID_LIMIT', 'Limit must be a positive integer.'],
      ['limit=501', 'AF_INVALID_LIMIT', 'Limit must be at most 500.'],
      ['offset=-1', 'AF_INVALID_OFFSET', 'Offset cannot be negative.'],
      ['offset=x', 'AF_INVALID_OFFSET', 'Offset must be an integer.'],
      ['offset=1e3', 'AF_INVALID_OFFSET', 'Offset must be an integer.'],
      ['limit=0x10', 'AF_INVALID_LIMIT', 'Limit must be an integer.'],
      ['offset=100001', 'AF_INVALID_OFFSET', 'Offset must be at most 100000; page further with the cursor.'],
      ['server_hostname=prod-web-01', 'AF_UNKNOWN_PARAMETER', undefined],
      ['q=%25', 'AF_INVALID_PARAMETER', undefined],
      ['severity=%2C', 'AF_INVALID_PARAMETER', undefined],
      ['host=a%00b', 'AF_INVALID_PARAMETER', undefined],
      ['limit=1&limit=2', 'AF_INVALID_PARAMETER', undefined],
      ['status=closed', 'AF_INVALID_PARAMETER', undefined],
      ['since=yesterday', 'AF_INVALID_PARAMETER', undefined],
      ['since=2031-01-02&until=2031-01-01', 'AF_INVALID_PARAMETER', undefined],
      ['cursor=not-a-cursor', 'AF_INVALID_CURSOR', undefined],
      [`cursor=${Buffer.from('["x","y"]').toString('base64url')}`, 'AF_INVALID_CURSOR', undefined],
      [`host=${'h'.repeat(256)}`, 'AF_INVALID_PARAMETER', undefined],
      ['q=a+b+c+d+e+f+g+h+i', 'AF_INVALID_PARAMETER', undefined],
    ] as const) {
      test(`400 ${code} for ${query.slice(0, 40)}`, async () => {
        const response = await inject({ url: `/alerts?${query}` });
        assert.equal(response.statusCode, 400);
        assert.match(String(response.headers['content-type']), PROBLEM);
        assert.equal(response.json().code, code);
        if (detail) assert.equal(response.json().detail, detail);
      });
    }

    test('unknown parameters are a 400 naming every one of them, on the list and the stats', async () => {
      for (const path of ['/alerts', '/alerts/stats']) {
        const response = await inject({ url: `${path}?server_hostname=x&host=${host}&sevrity=CRITICAL` });
        assert.equal(response.statusCode, 400);
        assert.match(String(response.headers['content-type']), PROBLEM);
        const body = response.json();
        assert.equal(body.code, 'AF_UNKNOWN_PARAMETER');
        assert.match(body.detail, /server_hostname, sevrity/);
        assert.deepEqual(
          body.errors.map((e: { path: string }) => e.path),
          ['/server_hostname', '/sevrity'],
        );
      }
      assert.equal((await inject({ url: '/alerts/stream?since=x' })).json().code, 'AF_UNKNOWN_PARAMETER');
    });

    test('limit keeps the original reading: signs and blanks allowed, an empty value is absent', async () => {
      assert.equal((await inject({ url: '/alerts?limit=%2B2' })).json().length, 2);
      assert.equal((await inject({ url: '/alerts?limit=%202%20' })).json().length, 2);
      assert.equal((await inject({ url: `/alerts?host=${host}&q=` })).json().length, 6);
    });
  });

  describe('GET /alerts/{id}', () => {
    test('200 with the row and its history', async () => {
      const response = await inject({ url: `/alerts/${records[0]!.alert_id}` });
      assert.equal(response.statusCode, 200);
      const body = response.json();
      assert.equal(body.alert_id, records[0]!.alert_id);
      assert.deepEqual(body.history, []);
    });
    test('uppercase UUIDs are accepted', async () => {
      assert.equal((await inject({ url: `/alerts/${records[0]!.alert_id.toUpperCase()}` })).statusCode, 200);
    });
    test('400 AF_INVALID_ALERT_ID for a malformed id, 404 for an unknown one', async () => {
      const bad = await inject({ url: '/alerts/not-a-uuid' });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'AF_INVALID_ALERT_ID');
      assert.match(String(bad.headers['content-type']), PROBLEM);
      const missing = await inject({ url: `/alerts/${UNKNOWN_ID}` });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().code, 'AF_ALERT_NOT_FOUND');
    });
  });

  describe('PATCH /alerts/{id}', () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    test('401 without a token or with a wrong one, before anything else is looked at', async () => {
      for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: TOKEN }, { authorization: 'Basic eDp5' }]) {
        const response = await inject({ method: 'PATCH', url: '/alerts/not-a-uuid', headers, payload: { status: 'resolved' } });
        assert.equal(response.statusCode, 401);
        assert.equal(response.json().code, 'AF_UNAUTHORIZED');
        assert.match(String(response.headers['www-authenticate']), /^Bearer/);
      }
    });
    test('200 with the updated row; the history records the change', async () => {
      const id = records[1]!.alert_id;
      const response = await inject({
        method: 'PATCH',
        url: `/alerts/${id}`,
        headers: auth,
        payload: { status: 'acknowledged', note: 'on it', actor: 'dana' },
      });
      assert.equal(response.statusCode, 200);
      assert.equal(response.json().status, 'acknowledged');
      assert.equal(response.json().status_changed_by, 'dana');
      const detail = (await inject({ url: `/alerts/${id}` })).json();
      assert.equal(detail.history.length, 1);
      assert.equal(detail.history[0].note, 'on it');
      const metrics = (await inject({ url: '/metrics' })).body;
      assert.match(metrics, /notification_alert_status_changes_total\{status="acknowledged",service="notification-service"\} 1/);
      const filtered = (await inject({ url: `/alerts?status=acknowledged&host=${host}` })).json();
      assert.deepEqual(
        filtered.map((r: { alert_id: string }) => r.alert_id),
        [id],
      );
    });
    for (const [name, payload] of [
      ['an unknown status', { status: 'closed' }],
      ['no status', { note: 'x' }],
      ['a note over 2000 characters', { status: 'resolved', note: 'n'.repeat(2001) }],
      ['an actor over 255 characters', { status: 'resolved', actor: 'a'.repeat(256) }],
      ['an empty actor', { status: 'resolved', actor: ' ' }],
      ['an unknown field', { status: 'resolved', extra: 1 }],
      ['an array', [{ status: 'resolved' }]],
      ['a non-string note', { status: 'resolved', note: 5 }],
    ] as const) {
      test(`400 for ${name}`, async () => {
        const response = await inject({ method: 'PATCH', url: `/alerts/${records[2]!.alert_id}`, headers: auth, payload });
        assert.equal(response.statusCode, 400);
        assert.equal(response.json().code, 'AF_INVALID_BODY');
      });
    }
    test('400 for malformed JSON, 415 for another content type, 400 for a bad id, 404 for an unknown one', async () => {
      const malformed = await inject({
        method: 'PATCH',
        url: `/alerts/${records[2]!.alert_id}`,
        headers: { ...auth, 'content-type': 'application/json' },
        payload: '{"status":',
      });
      assert.equal(malformed.statusCode, 400);
      const text = await inject({
        method: 'PATCH',
        url: `/alerts/${records[2]!.alert_id}`,
        headers: { ...auth, 'content-type': 'text/plain' },
        payload: 'resolved',
      });
      assert.equal(text.statusCode, 415);
      const badId = await inject({ method: 'PATCH', url: '/alerts/123', headers: auth, payload: { status: 'resolved' } });
      assert.equal(badId.json().code, 'AF_INVALID_ALERT_ID');
      const unknown = await inject({ method: 'PATCH', url: `/alerts/${UNKNOWN_ID}`, headers: auth, payload: { status: 'resolved' } });
      assert.equal(unknown.statusCode, 404);
    });
  });

  describe('GET /alerts/stats', () => {
    test('counts and a timeline for the window', async () => {
      const response = await inject({
        url: `/alerts/stats?host=${host}&since=2031-05-01T11:00:00Z&until=2031-05-01T14:00:00Z&bucket=hour`,
      });
      assert.equal(response.statusCode, 200);
      const stats = response.json();
      assert.equal(stats.total, 6);
      assert.deepEqual(stats.by_severity, { CRITICAL: 3, INFO: 3 });
      assert.equal(stats.timeline.length, 3);
      assert.deepEqual(stats.timeline[1].counts, { CRITICAL: 3, INFO: 3 });
    });
    test('the default window is the last 24 hours', async () => {
      const stats = (await inject({ url: '/alerts/stats' })).json();
      // 24 hours that rarely start on the hour touch 25 hour buckets.
      assert.ok(stats.timeline.length === 24 || stats.timeline.length === 25);
      assert.equal(stats.total, 0);
    });
    test('400 for a bad bucket or a window with too many buckets', async () => {
      assert.equal((await inject({ url: '/alerts/stats?bucket=week' })).statusCode, 400);
      const wide = await inject({ url: '/alerts/stats?bucket=minute&since=2020-01-01&until=2031-01-01' });
      assert.equal(wide.statusCode, 400);
      assert.equal(wide.json().code, 'AF_INVALID_PARAMETER');
    });
  });

  describe('operations', () => {
    test('/healthz, /readyz (checks PostgreSQL and the broker), /metrics', async () => {
      assert.deepEqual((await inject({ url: '/healthz' })).json(), { status: 'ok' });
      const ready = await inject({ url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(Object.keys(ready.json().checks).sort(), ['postgres', 'rabbitmq']);
      const metrics = await inject({ url: '/metrics' });
      assert.equal(metrics.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      for (const name of [
        'notification_alerts_ingested_total',
        'notification_dead_letter_total',
        'notification_ingest_batch_size',
        'notification_alerts_purged_total',
        'notification_database_up',
        'notification_rabbitmq_connection_status',
        'notification_sse_clients',
        'notification_alert_status_changes_total',
      ]) {
        assert.match(metrics.body, new RegExp(`# TYPE ${name} `), name);
      }
    });
    test('unknown routes are a 404 problem', async () => {
      const response = await inject({ url: '/nope' });
      assert.equal(response.statusCode, 404);
      assert.match(String(response.headers['content-type']), PROBLEM);
    });
  });

  describe('OpenAPI', () => {
    test('GET /openapi.json serves the 3.1 document', async () => {
      const response = await inject({ url: '/openapi.json' });
      assert.equal(response.statusCode, 200);
      assert.equal(response.json().openapi, '3.1.0');
    });

    test('every route is in the generated document with its parameters, scope and shared schemas', async () => {
      const doc = (await inject({ url: '/openapi.json' })).json();
      assert.deepEqual(Object.keys(doc.paths).sort(), [
        '/alerts',
        '/alerts/stats',
        '/alerts/stream',
        '/alerts/{id}',
        '/alerts/{id}/deliveries',
        '/alerts/{id}/response',
        '/alerts/{id}/response/{decision_id}/undo',
        '/exceptions',
        '/exceptions.yaml',
        '/exceptions/preview',
        '/exceptions/{id}',
        '/healthz',
        '/metrics',
        '/openapi.json',
        '/readyz',
        '/response/operator-addresses',
        '/silences',
        '/silences/{id}',
      ]);
      assert.deepEqual(doc.paths['/silences'].post.security, [{ bearer: ['admin'] }]);
      assert.deepEqual(doc.paths['/silences/{id}'].delete.security, [{ bearer: ['admin'] }]);
      assert.deepEqual(doc.paths['/exceptions'].post.security, [{ bearer: ['admin'] }]);
      assert.deepEqual(doc.paths['/exceptions/{id}'].delete.security, [{ bearer: ['admin'] }]);
      assert.deepEqual(doc.paths['/exceptions/preview'].post.security, [{}, { bearer: ['read'] }]);
      const list = doc.paths['/alerts'].get;
      const names = list.parameters.map((p: { name: string }) => p.name).sort();
      assert.deepEqual(names, ['cursor', 'host', 'limit', 'offset', 'q', 'rule_id', 'severity', 'since', 'status', 'until', 'user']);
      const limit = list.parameters.find((p: { name: string }) => p.name === 'limit');
      assert.deepEqual(limit.schema.maximum, 500);
      assert.equal(limit.schema['x-problem'].code, 'AF_INVALID_LIMIT');
      assert.deepEqual(list.security, [{}, { bearer: ['read'] }]);
      assert.deepEqual(doc.paths['/alerts/{id}'].patch.security, [{ bearer: ['ack'] }]);
      assert.ok(doc.paths['/alerts/{id}'].patch.responses['401']);
      assert.ok(doc.paths['/alerts/{id}'].patch.responses['403']);
      assert.equal(doc.paths['/healthz'].get.security, undefined);
      assert.equal(list.responses['200'].content['application/json'].schema.items.$ref, '#/components/schemas/Alert');
      assert.deepEqual(doc.components.schemas.Alert.properties.status.enum, ['open', 'acknowledged', 'resolved']);
      assert.equal(doc.components.securitySchemes.bearer.scheme, 'bearer');
      const body = doc.paths['/alerts/{id}'].patch.requestBody.content['application/json'].schema;
      assert.equal(body.$ref, '#/components/schemas/StatusChange');
    });
  });
});
