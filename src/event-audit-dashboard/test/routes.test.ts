import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../common/test/support.ts';
import { buildDashboardServer, type DashboardServer, loadDashboardConfig } from '../src/index.ts';
import { type FakeNotification, makeAlert, startFakeNotification } from './support/fake-notification.ts';
import { AUTH_ENV, signIn, TEST_USER } from './support/login.ts';

const TOKEN = 'route-test-token-5f2d9c';
const NOW = new Date('2026-03-01T12:00:00.000Z');

async function build(env: Record<string, string>, options: { fetch?: typeof fetch } = {}): Promise<DashboardServer> {
  const server = await buildDashboardServer({
    config: loadDashboardConfig({ APP_PORT: '0', ...AUTH_ENV, ...env }),
    logger: silentLogger,
    now: () => NOW,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return signIn(server);
}

/** A closed port: connection refused, as when the service is down. */
async function deadUrl(): Promise<string> {
  const fake = await startFakeNotification();
  await fake.close();
  return fake.url;
}

const SAME_ORIGIN = { 'content-type': 'application/json', origin: 'http://dashboard.test', host: 'dashboard.test', 'sec-fetch-site': 'same-origin' };

describe('dashboard routes with the notification service up', () => {
  let backend: FakeNotification;
  let server: DashboardServer;
  let known: Record<string, unknown>;

  before(async () => {
    backend = await startFakeNotification({ tokens: [TOKEN] });
    known = backend.add({
      alert_name: '<script>alert("name")</script>',
      raw_event_data: { command: '</pre><img src=x onerror=alert(1)>' },
      metadata: { remediation_guidance: 'Rotate <b>keys</b>', playbook_url: 'javascript:alert(1)' },
    });
    for (let i = 0; i < 3; i++) backend.add({ severity: 'HIGH', timestamp: new Date(NOW.getTime() - (i + 1) * 60_000).toISOString() });
    server = await build({ NOTIFICATION_SERVICE_URL: backend.url, NOTIFICATION_API_TOKEN: TOKEN });
  });

  after(async () => {
    await server.app.close();
    await backend.close();
  });

  const lastBackendRequest = (path: string) => backend.requests.filter((r) => r.url.split('?')[0] === path).at(-1);

  test('GET / renders the list server-side, escaped, with a strict CSP', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.match(String(response.headers['content-security-policy']), /script-src 'self'/);
    assert.doesNotMatch(String(response.headers['content-security-policy']), /unsafe-inline/);
    assert.equal(response.headers['x-frame-options'], 'DENY');
    assert.ok(response.body.includes('&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;'));
    assert.ok(!response.body.includes('<script>alert'));
    assert.equal(response.body.match(/<tr class="row /g)?.length, 4);
    assert.match(response.body, /data-count="high">3</);
    assert.ok(response.body.includes(`href="/alert/${String(known['alert_id'])}"`));
  });

  test('filters in the page URL reach the backend as validated parameters', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/?severity=HIGH&severity=critical&status=open&range=1h&user=bob' });
    assert.equal(response.statusCode, 200);
    const sent = new URL(lastBackendRequest('/alerts')!.url, 'http://x').searchParams;
    assert.equal(sent.get('severity'), 'HIGH,CRITICAL');
    assert.equal(sent.get('status'), 'open');
    assert.equal(sent.get('user'), 'bob');
    assert.equal(sent.get('since'), '2026-03-01T11:00:00.000Z');
    assert.equal(sent.get('limit'), '50');
    const stats = new URL(lastBackendRequest('/alerts/stats')!.url, 'http://x').searchParams;
    assert.equal(stats.get('bucket'), 'minute');
    // The form is pre-filled so the view can be refined and shared.
    assert.match(response.body, /value="HIGH" checked/);
    assert.match(response.body, /<option value="open" selected>/);
  });

  test('bad filters give a 400 page and never reach the backend', async () => {
    const before = backend.requests.length;
    for (const query of ['limit=0', 'status=closed', 'since=yesterday', 'severity=%3Cscript%3E', 'severity=BOGUS', 'severity=HIGH,CRTICAL', 'range=2y', 'sort=name', 'group=user']) {
      const response = await server.app.inject({ method: 'GET', url: `/?${query}` });
      assert.equal(response.statusCode, 400, query);
      assert.match(response.body, /These filters are not valid/);
      assert.ok(!response.body.includes('<script>'));
    }
    assert.equal(backend.requests.length, before);
  });

  test('an unknown parameter is a 400 page naming it and never reaches the backend', async () => {
    const before = backend.requests.length;
    for (const query of ['server_hostname=prod-web-01', 'severity=HIGH&sevrity=HIGH', 'host=a%00b']) {
      const response = await server.app.inject({ method: 'GET', url: `/?${query}` });
      assert.equal(response.statusCode, 400, query);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.match(response.body, /These filters are not valid/);
    }
    const named = await server.app.inject({ method: 'GET', url: '/?server_hostname=prod-web-01' });
    assert.match(named.body, /server_hostname/);
    assert.equal(backend.requests.length, before);
  });

  test('an empty result says so', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/?user=nobody' });
    assert.equal(response.statusCode, 200);
    assert.match(response.body, /<p class="empty" data-empty>No alerts match these filters/);
  });

  test('keyset paging links carry the next cursor', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/?limit=2' });
    assert.match(response.body, /data-older data-cursor="[^"]+"/);
    const cursor = /data-cursor="([^"]+)"/.exec(response.body)![1]!;
    const older = await server.app.inject({ method: 'GET', url: `/?limit=2&cursor=${encodeURIComponent(cursor)}` });
    assert.equal(older.statusCode, 200);
    assert.equal(older.body.match(/<tr class="row /g)?.length, 2);
    assert.match(older.body, /← Newest/);
  });

  test('GET /alert/{id} renders the detail with escaped event data and no unsafe link', async () => {
    const response = await server.app.inject({ method: 'GET', url: `/alert/${String(known['alert_id'])}` });
    assert.equal(response.statusCode, 200);
    assert.ok(response.body.includes('&lt;/pre&gt;&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(!response.body.includes('<img src=x'));
    assert.ok(!response.body.includes('href="javascript:'));
    assert.match(response.body, /Playbook \(not a web link\)/);
    assert.match(response.body, /Rotate &lt;b&gt;keys&lt;\/b&gt;/);
    assert.match(response.body, />Acknowledge</);
    assert.doesNotMatch(response.body, /actions-disabled/);
  });

  test('an http(s) playbook becomes a link', async () => {
    const row = backend.add({ metadata: { playbook_url: 'https://example.com/playbooks/x?a=1&b=2' } });
    const response = await server.app.inject({ method: 'GET', url: `/alert/${String(row['alert_id'])}` });
    assert.match(response.body, /<a href="https:\/\/example.com\/playbooks\/x\?a=1&amp;b=2" rel="noopener noreferrer nofollow"/);
  });

  test('a malformed id is a 400 page and an unknown one a 404 page', async () => {
    const malformed = await server.app.inject({ method: 'GET', url: '/alert/not-a-uuid' });
    assert.equal(malformed.statusCode, 400);
    assert.match(String(malformed.headers['content-type']), /^text\/html/);
    assert.match(malformed.body, /not a valid alert id/);
    const unknown = await server.app.inject({ method: 'GET', url: '/alert/3f0c2a9e-8d1b-4c6e-9f7a-1b2c3d4e5f60' });
    assert.equal(unknown.statusCode, 404);
    assert.match(unknown.body, /Alert not found/);
  });

  test('the JSON API lists, pages, counts and shows alerts', async () => {
    const list = await server.app.inject({ method: 'GET', url: '/api/alerts?limit=2' });
    assert.equal(list.statusCode, 200);
    const body = list.json() as { items: unknown[]; next_cursor: string | null };
    assert.equal(body.items.length, 2);
    assert.equal(typeof body.next_cursor, 'string');
    assert.equal(list.headers['x-next-cursor'], body.next_cursor);
    assert.equal(list.headers['cache-control'], 'no-store');

    const stats = await server.app.inject({ method: 'GET', url: '/api/alerts/stats?range=24h' });
    assert.equal(stats.statusCode, 200);
    const statsBody = stats.json() as { total: number; window: { bucket: string; since: string; until: string } };
    assert.ok(statsBody.total >= 4);
    assert.deepEqual(statsBody.window, { bucket: 'hour', since: '2026-02-28T12:00:00.000Z', until: NOW.toISOString() });

    const one = await server.app.inject({ method: 'GET', url: `/api/alerts/${String(known['alert_id'])}` });
    assert.equal(one.statusCode, 200);
    assert.equal((one.json() as { alert_id: string }).alert_id, known['alert_id']);
  });

  test('the JSON API refuses bad input with problem+json', async () => {
    for (const [url, status, code] of [
      ['/api/alerts?limit=0', 400, 'AF_VALIDATION_FAILED'],
      ['/api/alerts?since=soon', 400, 'AF_VALIDATION_FAILED'],
      ['/api/alerts/nope', 400, 'AF_INVALID_ALERT_ID'],
      ['/api/alerts?server_hostname=x', 400, 'AF_UNKNOWN_PARAMETER'],
      ['/api/alerts/stats?sevrity=HIGH', 400, 'AF_UNKNOWN_PARAMETER'],
      ['/api/alerts/3f0c2a9e-8d1b-4c6e-9f7a-1b2c3d4e5f60', 404, 'AF_ALERT_NOT_FOUND'],
    ] as const) {
      const response = await server.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, status, url);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      assert.equal((response.json() as { code: string }).code, code, url);
    }
  });

  test('POST /api/alerts/{id}/status changes the status with the server-side token', async () => {
    const row = backend.add();
    const response = await server.app.inject({
      method: 'POST',
      url: `/api/alerts/${String(row['alert_id'])}/status`,
      headers: SAME_ORIGIN,
      payload: { status: 'acknowledged', note: '  on it  ' },
    });
    assert.equal(response.statusCode, 200);
    assert.equal((response.json() as { status: string }).status, 'acknowledged');
    const patch = backend.requests.filter((r) => r.method === 'PATCH').at(-1)!;
    assert.equal(patch.headers['authorization'], `Bearer ${TOKEN}`);
    assert.deepEqual(patch.body, { status: 'acknowledged', note: 'on it', actor: TEST_USER });
  });

  test('the status route refuses cross-site and non-JSON requests before calling the backend', async () => {
    const row = backend.add();
    const url = `/api/alerts/${String(row['alert_id'])}/status`;
    const patches = () => backend.requests.filter((r) => r.method === 'PATCH').length;
    const before = patches();
    const cases: [Record<string, string>, string, number, string][] = [
      [{ ...SAME_ORIGIN, 'content-type': 'text/plain' }, '{"status":"resolved"}', 415, 'AF_UNSUPPORTED_MEDIA_TYPE'],
      [{ ...SAME_ORIGIN, 'content-type': 'application/x-www-form-urlencoded' }, 'status=resolved', 415, 'AF_UNSUPPORTED_MEDIA_TYPE'],
      [{ ...SAME_ORIGIN, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, '{"status":"resolved"}', 403, 'AF_CSRF_REJECTED'],
      [{ ...SAME_ORIGIN, 'sec-fetch-site': 'same-site' }, '{"status":"resolved"}', 403, 'AF_CSRF_REJECTED'],
      [{ 'content-type': 'application/json', host: 'dashboard.test', origin: 'https://evil.example' }, '{"status":"resolved"}', 403, 'AF_CSRF_REJECTED'],
      [{ 'content-type': 'application/json', host: 'dashboard.test', origin: 'null' }, '{"status":"resolved"}', 403, 'AF_CSRF_REJECTED'],
      [{ 'content-type': 'application/json', host: 'dashboard.test' }, '{"status":"resolved"}', 403, 'AF_CSRF_REJECTED'],
    ];
    for (const [headers, payload, status, code] of cases) {
      const response = await server.app.inject({ method: 'POST', url, headers, payload });
      assert.equal(response.statusCode, status, JSON.stringify(headers));
      assert.equal((response.json() as { code: string }).code, code);
    }
    assert.equal(patches(), before);
    assert.equal(row['status'], 'open');
  });

  test('the status route validates the id and the body', async () => {
    const row = backend.add();
    const bad = [
      [`/api/alerts/nope/status`, { status: 'resolved' }, 400],
      [`/api/alerts/${String(row['alert_id'])}/status`, { status: 'deleted' }, 400],
      [`/api/alerts/${String(row['alert_id'])}/status`, { status: 'resolved', note: 'x'.repeat(1001) }, 400],
      [`/api/alerts/${String(row['alert_id'])}/status`, ['resolved'], 400],
      ['/api/alerts/3f0c2a9e-8d1b-4c6e-9f7a-1b2c3d4e5f60/status', { status: 'resolved' }, 404],
    ] as const;
    for (const [url, payload, status] of bad) {
      const response = await server.app.inject({ method: 'POST', url, headers: SAME_ORIGIN, payload: JSON.stringify(payload) });
      assert.equal(response.statusCode, status, `${url} ${JSON.stringify(payload)}`);
    }
  });

  test('probes and metrics', async () => {
    assert.equal((await server.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    const ready = await server.app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
    assert.equal((ready.json() as { checks: Record<string, { ok: boolean }> }).checks['notification_api']?.ok, true);
    assert.ok(backend.requests.some((r) => r.url === '/healthz'));
    const metrics = await server.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(metrics.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(metrics.body, /dashboard_backend_requests_total\{outcome="ok",service="event-audit-dashboard"\} [1-9]/);
    assert.match(metrics.body, /dashboard_backend_up\{service="event-audit-dashboard"\} 1/);
    assert.match(metrics.body, /http_request_duration_seconds_bucket\{.*route="\/alert\/:id"/);
  });

  test('the API token never appears in any response', async () => {
    const id = String(known['alert_id']);
    const urls = ['/', `/alert/${id}`, '/api/alerts', '/api/alerts/stats', `/api/alerts/${id}`, '/metrics', '/readyz', '/alert/bad', '/?limit=0'];
    for (const path of server.assets.files.keys()) urls.push(server.assets.url(path));
    for (const url of urls) {
      const response = await server.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'identity' } });
      assert.ok(!response.body.includes(TOKEN), url);
      assert.ok(!JSON.stringify(response.headers).includes(TOKEN), url);
    }
    const post = await server.app.inject({ method: 'POST', url: `/api/alerts/${id}/status`, headers: SAME_ORIGIN, payload: { status: 'resolved' } });
    assert.ok(!post.body.includes(TOKEN));
  });
});

describe('dashboard routes without a token or with a rejected one', () => {
  let backend: FakeNotification;
  before(async () => {
    backend = await startFakeNotification({ tokens: ['the-right-one'] });
  });
  after(async () => backend.close());

  test('without NOTIFICATION_API_TOKEN the buttons are disabled and POST answers 503', async () => {
    const server = await build({ NOTIFICATION_SERVICE_URL: backend.url });
    try {
      const row = backend.add();
      const page = await server.app.inject({ method: 'GET', url: `/alert/${String(row['alert_id'])}` });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /Status changes are disabled/);
      assert.match(page.body, /<button type="submit" name="status" value="acknowledged" class="btn" disabled/);
      const post = await server.app.inject({ method: 'POST', url: `/api/alerts/${String(row['alert_id'])}/status`, headers: SAME_ORIGIN, payload: { status: 'resolved' } });
      assert.equal(post.statusCode, 503);
      assert.equal((post.json() as { code: string }).code, 'AF_ACTIONS_DISABLED');
      assert.equal(backend.requests.filter((r) => r.method === 'PATCH').length, 0);
    } finally {
      await server.app.close();
    }
  });

  test('a token the service rejects is reported as a gateway problem, not passed on as 401', async () => {
    const server = await build({ NOTIFICATION_SERVICE_URL: backend.url, NOTIFICATION_API_TOKEN: 'the-wrong-one' });
    try {
      const row = backend.add();
      const post = await server.app.inject({ method: 'POST', url: `/api/alerts/${String(row['alert_id'])}/status`, headers: SAME_ORIGIN, payload: { status: 'resolved' } });
      assert.equal(post.statusCode, 502);
      assert.equal((post.json() as { code: string }).code, 'AF_BACKEND_AUTH_REJECTED');
      assert.ok(!post.body.includes('the-wrong-one'));
    } finally {
      await server.app.close();
    }
  });
});

describe('dashboard routes with the notification service down', () => {
  test('pages answer 503 with a clear state, the API 503 problem, readiness fails, metrics say down', async () => {
    const server = await build({ NOTIFICATION_SERVICE_URL: await deadUrl(), NOTIFICATION_API_TOKEN: TOKEN });
    try {
      const list = await server.app.inject({ method: 'GET', url: '/?severity=HIGH' });
      assert.equal(list.statusCode, 503);
      assert.match(list.body, /Notification service unavailable/);
      assert.match(list.body, /data-backend-down/);
      assert.match(list.body, /href="\/\?severity=HIGH">Retry now/);
      const detail = await server.app.inject({ method: 'GET', url: '/alert/3f0c2a9e-8d1b-4c6e-9f7a-1b2c3d4e5f60' });
      assert.equal(detail.statusCode, 503);
      assert.match(detail.body, /Notification service unavailable/);
      const api = await server.app.inject({ method: 'GET', url: '/api/alerts' });
      assert.equal(api.statusCode, 503);
      assert.equal((api.json() as { code: string }).code, 'AF_BACKEND_UNAVAILABLE');
      const stream = await server.app.inject({ method: 'GET', url: '/api/alerts/stream' });
      assert.equal(stream.statusCode, 503);
      const ready = await server.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      assert.equal((ready.json() as { checks: Record<string, { ok: boolean }> }).checks['notification_api']?.ok, false);
      const metrics = await server.app.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /dashboard_backend_up\{service="event-audit-dashboard"\} 0/);
      assert.match(metrics.body, /dashboard_backend_requests_total\{outcome="error",service="event-audit-dashboard"\} [1-9]/);
    } finally {
      await server.app.close();
    }
  });

  test('a backend that does not answer in time counts as a timeout', async () => {
    // A fetch that only ever ends by its abort signal, as a hung service would.
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason), { once: true });
      });
    const server = await build({ NOTIFICATION_SERVICE_URL: 'http://127.0.0.1:9', REQUEST_TIMEOUT_MS: '100' }, { fetch: hanging });
    try {
      const list = await server.app.inject({ method: 'GET', url: '/' });
      assert.equal(list.statusCode, 503);
      assert.match(list.body, /AF_BACKEND_TIMEOUT/);
      const metrics = await server.app.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /dashboard_backend_requests_total\{outcome="timeout",service="event-audit-dashboard"\} [1-9]/);
    } finally {
      await server.app.close();
    }
  });

  test('a backend 5xx is unavailability, a non-JSON answer a bad gateway', async () => {
    const broken: typeof fetch = async (input) =>
      String(input).includes('/stats')
        ? new Response('oops', { status: 500 })
        : new Response('<html>not json</html>', { status: 200, headers: { 'content-type': 'text/html' } });
    const server = await build({ NOTIFICATION_SERVICE_URL: 'http://127.0.0.1:9' }, { fetch: broken });
    try {
      const api = await server.app.inject({ method: 'GET', url: '/api/alerts' });
      assert.equal(api.statusCode, 502);
      assert.equal((api.json() as { code: string }).code, 'AF_BACKEND_BAD_RESPONSE');
      const stats = await server.app.inject({ method: 'GET', url: '/api/alerts/stats' });
      assert.equal(stats.statusCode, 503);
    } finally {
      await server.app.close();
    }
  });
});

test('the fake backend row builder keeps the documented row keys', () => {
  const row = makeAlert();
  for (const key of ['alert_id', 'severity', 'status', 'raw_event_data', 'metadata', 'first_seen', 'last_seen', 'updated_at']) {
    assert.ok(key in row, key);
  }
});

test('unknown paths: a 404 page for browsers, a problem for API clients', async () => {
  const backend = await startFakeNotification();
  const server = await build({ NOTIFICATION_SERVICE_URL: backend.url });
  try {
    const page = await server.app.inject({ method: 'GET', url: '/alerts', headers: { accept: 'text/html,application/xhtml+xml' } });
    assert.equal(page.statusCode, 404);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /Page not found/);
    const api = await server.app.inject({ method: 'GET', url: '/api/nothing', headers: { accept: 'text/html' } });
    assert.equal(api.statusCode, 404);
    assert.equal((api.json() as { code: string }).code, 'AF_ROUTE_NOT_FOUND');
    const post = await server.app.inject({ method: 'POST', url: '/nothing' });
    assert.equal(post.statusCode, 404);
  } finally {
    await server.app.close();
    await backend.close();
  }
});
