import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../common/test/support.ts';
import { buildDashboardServer, type DashboardServer, loadDashboardConfig } from '../src/index.ts';
import { type FakeNotification, startFakeNotification } from './support/fake-notification.ts';

const TOKEN = 'exception-route-token-77ab';
const SAME_ORIGIN = { 'content-type': 'application/json', origin: 'http://dashboard.test', host: 'dashboard.test', 'sec-fetch-site': 'same-origin' };
const PROBLEM = /^application\/problem\+json/;

async function build(url: string, token?: string): Promise<DashboardServer> {
  const env: Record<string, string> = { APP_PORT: '0', NOTIFICATION_SERVICE_URL: url };
  if (token) env['NOTIFICATION_API_TOKEN'] = token;
  return buildDashboardServer({ config: loadDashboardConfig(env), logger: silentLogger });
}

/** The refusals are the dashboard's own (the upstream contract fake has no exceptions routes: an older service). */
describe('exception routes of the dashboard: refusals', () => {
  let backend: FakeNotification;
  let server: DashboardServer;
  let readOnly: DashboardServer;

  before(async () => {
    backend = await startFakeNotification({ tokens: [TOKEN] });
    server = await build(backend.url, TOKEN);
    readOnly = await build(backend.url);
  });
  after(async () => {
    await server.app.close();
    await readOnly.app.close();
    await backend.close();
  });

  const valid = { rule_id: 'ANLY-SEC-001', fields: { host: 'pi-1' }, reason: 'r', author: 'dana' };

  test('bad input, cross-site requests, no token and an older notification service each get their problem+json', async () => {
    const cases: [DashboardServer, string, Record<string, string>, unknown, number, string][] = [
      [server, '/api/exceptions', SAME_ORIGIN, { ...valid, reason: '' }, 400, 'AF_VALIDATION_FAILED'],
      [server, '/api/exceptions', SAME_ORIGIN, { ...valid, fields: {} }, 400, 'AF_VALIDATION_FAILED'],
      [server, '/api/exceptions', SAME_ORIGIN, { ...valid, fields: { rule_id: 'x' } }, 400, 'AF_VALIDATION_FAILED'],
      [server, '/api/exceptions', SAME_ORIGIN, { ...valid, expires_at: '2001-01-01T00:00:00Z' }, 400, 'AF_VALIDATION_FAILED'],
      [server, '/api/exceptions/preview', SAME_ORIGIN, { rule_id: 'R', fields: { host: 'x' }, days: 365 }, 400, 'AF_VALIDATION_FAILED'],
      [server, '/api/exceptions', { ...SAME_ORIGIN, origin: 'http://evil.test', 'sec-fetch-site': 'cross-site' }, valid, 403, 'AF_CSRF_REJECTED'],
      [server, '/api/exceptions', { 'content-type': 'application/json' }, valid, 403, 'AF_CSRF_REJECTED'],
      [readOnly, '/api/exceptions', SAME_ORIGIN, valid, 503, 'AF_ACTIONS_DISABLED'],
      [server, '/api/exceptions', SAME_ORIGIN, valid, 501, 'AF_BACKEND_FEATURE_MISSING'],
      [server, '/api/exceptions/preview', SAME_ORIGIN, { rule_id: 'R', fields: { host: 'x' }, days: 7 }, 501, 'AF_BACKEND_FEATURE_MISSING'],
      [server, '/api/exceptions/has%20space/delete', SAME_ORIGIN, {}, 400, 'AF_VALIDATION_FAILED'],
    ];
    for (const [target, url, headers, payload, status, code] of cases) {
      const response = await target.app.inject({ method: 'POST', url, headers, payload: JSON.stringify(payload) });
      const label = `${url} ${JSON.stringify(payload)}`;
      assert.equal(response.statusCode, status, `${label}: ${response.body}`);
      assert.match(String(response.headers['content-type']), PROBLEM, label);
      assert.equal(response.json().code, code, label);
    }
    const page = await server.app.inject({ url: '/exceptions' });
    assert.equal(page.statusCode, 501);
    assert.match(page.body, /Exceptions are unavailable/);
  });
});
