import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../common/test/support.ts';
import { buildDashboardServer, type DashboardServer, loadDashboardConfig } from '../src/index.ts';
import { type FakeNotification, startFakeNotification } from './support/fake-notification.ts';
import { AUTH_ENV, signIn, TEST_USER } from './support/login.ts';

const TOKEN = 'triage-route-token-51aa';
const SAME_ORIGIN = { 'content-type': 'application/json', origin: 'http://dashboard.test', host: 'dashboard.test', 'sec-fetch-site': 'same-origin' };
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

async function build(url: string, token = TOKEN): Promise<DashboardServer> {
  const env: Record<string, string> = { APP_PORT: '0', NOTIFICATION_SERVICE_URL: url, ...AUTH_ENV };
  if (token) env['NOTIFICATION_API_TOKEN'] = token;
  return signIn(await buildDashboardServer({ config: loadDashboardConfig(env), logger: silentLogger }));
}

describe('triage routes against the contract fake', () => {
  let backend: FakeNotification;
  let server: DashboardServer;

  before(async () => {
    backend = await startFakeNotification({ tokens: [TOKEN] });
    backend.add({ severity: 'LOW', count: 9, rule_id: 'R-2', server_hostname: 'b-host' });
    backend.add({ severity: 'CRITICAL', count: 1, rule_id: 'R-1', server_hostname: 'a-host' });
    backend.add({ severity: 'HIGH', count: 4, rule_id: 'R-1', server_hostname: 'b-host' });
    server = await build(backend.url);
  });
  after(async () => {
    await server.app.close();
    await backend.close();
  });

  const severities = (body: string) => [...body.matchAll(/<td class="c-sev"><span class="sev sev-(\w+)"/g)].map((m) => m[1]);

  test('the page sorts and groups on the server, and keeps both in its links', async () => {
    assert.deepEqual(severities((await server.app.inject({ url: '/?sort=severity' })).body), ['critical', 'high', 'low']);
    assert.deepEqual(severities((await server.app.inject({ url: '/?sort=count' })).body), ['low', 'high', 'critical']);
    const grouped = await server.app.inject({ url: '/?group=host&sort=severity' });
    assert.equal(grouped.statusCode, 200);
    assert.deepEqual(severities(grouped.body), ['high', 'low', 'critical'], 'b-host (2 alerts) first, each group by severity');
    assert.match(grouped.body, /b-host <span class="group-count">2 alerts<\/span>/);
    assert.match(grouped.body, /href="\/\?sort=count&amp;group=host" data-sort="count"/);
    // View options never reach the notification API.
    const sent = backend.requests.filter((r) => r.url.startsWith('/alerts?')).at(-1)!;
    assert.doesNotMatch(sent.url, /sort|group/);
  });

  test('bulk status changes call the API once per alert with the server-held token', async () => {
    const ids = backend.rows.map((r) => String(r['alert_id']));
    const missing = '00000000-0000-4000-8000-000000000000';
    const response = await server.app.inject({
      method: 'POST',
      url: '/api/alerts/status',
      headers: SAME_ORIGIN,
      payload: { ids: [...ids, missing], status: 'acknowledged', note: 'bulk' },
    });
    assert.equal(response.statusCode, 200);
    const body = response.json() as { changed: number; failed: number; results: { id: string; ok: boolean }[] };
    assert.equal(body.changed, 3);
    assert.equal(body.failed, 1);
    assert.deepEqual(body.results.map((r) => r.id), [...ids, missing]);
    assert.ok(backend.rows.every((r) => r['status'] === 'acknowledged' && r['status_note'] === 'bulk'));
    assert.ok(!response.body.includes(TOKEN));
    for (const payload of [{ ids: [], status: 'resolved' }, { ids: ['x'], status: 'resolved' }, { ids, status: 'closed' }]) {
      const bad = await server.app.inject({ method: 'POST', url: '/api/alerts/status', headers: SAME_ORIGIN, payload });
      assert.equal(bad.statusCode, 400, JSON.stringify(payload));
      assert.equal(bad.json().code, 'AF_VALIDATION_FAILED');
    }
    const crossSite = await server.app.inject({ method: 'POST', url: '/api/alerts/status', headers: { ...SAME_ORIGIN, 'sec-fetch-site': 'cross-site' }, payload: { ids, status: 'open' } });
    assert.equal(crossSite.statusCode, 403);
  });

  test('silences: create (validated, token added), list by state, expire', async () => {
    const bad = await server.app.inject({
      method: 'POST',
      url: '/api/silences',
      headers: SAME_ORIGIN,
      payload: { matchers: [{ name: 'host', value: '(' , isRegex: true, isEqual: true }], comment: '', ends_at: 'tomorrow' },
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().detail, /matchers\[0\]\.value is not a valid RE2 regular expression.*comment.*ends_at/);
    const before = backend.requests.length;
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/silences',
      headers: SAME_ORIGIN,
      payload: { matchers: [{ name: 'host', value: 'b-host', isRegex: false, isEqual: true }], comment: 'patching', ends_at: inAnHour() },
    });
    assert.equal(created.statusCode, 201);
    const silence = created.json() as Record<string, unknown>;
    assert.equal(silence['status'], 'active');
    assert.equal(silence['created_by'], TEST_USER, 'the logged-in person');
    const post = backend.requests.slice(before).find((r) => r.method === 'POST')!;
    assert.equal(post.headers['authorization'], `Bearer ${TOKEN}`);
    assert.ok(!created.body.includes(TOKEN));

    const active = await server.app.inject({ url: '/api/silences?state=active' });
    assert.deepEqual((active.json() as { silences: { id: string }[] }).silences.map((s) => s.id), [silence['id']]);
    assert.equal((await server.app.inject({ url: '/api/silences?state=soon' })).statusCode, 400);
    const page = await server.app.inject({ url: '/silences' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<code>b-host<\/code>/);
    // Alerts on b-host show as silenced.
    assert.equal((await server.app.inject({ url: '/' })).body.match(/status-silenced/g)?.length, 2);

    const expired = await server.app.inject({ method: 'POST', url: `/api/silences/${String(silence['id'])}/expire`, headers: SAME_ORIGIN, payload: {} });
    assert.equal(expired.statusCode, 200);
    assert.equal(expired.json().status, 'expired');
    const unknown = await server.app.inject({ method: 'POST', url: '/api/silences/00000000-0000-4000-8000-000000000000/expire', headers: SAME_ORIGIN, payload: {} });
    assert.equal(unknown.statusCode, 404);
    const malformed = await server.app.inject({ method: 'POST', url: '/api/silences/nope/expire', headers: SAME_ORIGIN, payload: {} });
    assert.equal(malformed.statusCode, 400);
  });

  test('the new-silence page is prefilled from the alert: rule, host, user', async () => {
    const alert = backend.rows[1]!;
    const page = await server.app.inject({ url: `/silences/new?alert=${String(alert['alert_id'])}` });
    assert.equal(page.statusCode, 200);
    const values = [...page.body.matchAll(/name="value-\d" value="([^"]*)"/g)].map((m) => m[1]);
    assert.deepEqual(values, [alert['rule_id'], alert['server_hostname'], alert['actor_id']]);
    assert.equal((await server.app.inject({ url: '/silences/new?alert=nope' })).statusCode, 400);
  });

  test('deliveries of an alert, on the detail page and as JSON', async () => {
    const id = String(backend.rows[0]!['alert_id']);
    const at = new Date().toISOString();
    backend.deliveries.set(id, [{ id: 'd', output: 'ops-hook', type: 'webhook', status: 'failed', attempts: 3, last_error: '<b>500</b>', next_attempt_at: null, sent_at: null, created_at: at, updated_at: at }]);
    const json = await server.app.inject({ url: `/api/alerts/${id}/deliveries` });
    assert.equal(json.statusCode, 200);
    assert.equal((json.json() as { deliveries: unknown[] }).deliveries.length, 1);
    const page = await server.app.inject({ url: `/alert/${id}` });
    assert.match(page.body, /<tr data-delivery="failed"><th scope="row">ops-hook/);
    assert.match(page.body, /&lt;b&gt;500&lt;\/b&gt;/);
  });

  test('without a token, silences cannot be created or expired (503) and the form says so', async () => {
    const readOnly = await build(backend.url, '');
    try {
      const response = await readOnly.app.inject({
        method: 'POST',
        url: '/api/silences',
        headers: SAME_ORIGIN,
        payload: { matchers: [{ name: 'host', value: 'x', isRegex: false, isEqual: true }], comment: 'c', ends_at: inAnHour() },
      });
      assert.equal(response.statusCode, 503);
      assert.equal(response.json().code, 'AF_ACTIONS_DISABLED');
      assert.match((await readOnly.app.inject({ url: '/silences' })).body, /Creating silences is disabled/);
    } finally {
      await readOnly.app.close();
    }
  });
});

test('an older notification-service (404 for silences and deliveries) is named as the cause', async () => {
  const backend = await startFakeNotification({ tokens: [TOKEN], legacy: true });
  const server = await build(backend.url);
  try {
    const alert = backend.add();
    const list = await server.app.inject({ url: '/api/silences' });
    assert.equal(list.statusCode, 501);
    assert.equal(list.json().code, 'AF_BACKEND_FEATURE_MISSING');
    assert.match(list.json().detail, /does not offer silences \(GET \/silences answered 404\); upgrade notification-service/);
    const create = await server.app.inject({
      method: 'POST',
      url: '/api/silences',
      headers: SAME_ORIGIN,
      payload: { matchers: [{ name: 'host', value: 'x', isRegex: false, isEqual: true }], comment: 'c', ends_at: inAnHour() },
    });
    assert.equal(create.statusCode, 501);
    const expire = await server.app.inject({ method: 'POST', url: '/api/silences/00000000-0000-4000-8000-000000000000/expire', headers: SAME_ORIGIN, payload: {} });
    assert.equal(expire.statusCode, 501);
    const deliveries = await server.app.inject({ url: `/api/alerts/${String(alert['alert_id'])}/deliveries` });
    assert.equal(deliveries.statusCode, 501);
    const page = await server.app.inject({ url: '/silences' });
    assert.equal(page.statusCode, 501);
    assert.match(page.body, /Silences are unavailable/);
    const detail = await server.app.inject({ url: `/alert/${String(alert['alert_id'])}` });
    assert.equal(detail.statusCode, 200);
    assert.match(detail.body, /Deliveries cannot be shown: the notification service does not offer deliveries/);
  } finally {
    await server.app.close();
    await backend.close();
  }
});
