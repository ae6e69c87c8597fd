import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { silentLogger } from '../../common/test/support.ts';
import { buildDashboardServer, type DashboardServer, loadDashboardConfig } from '../src/index.ts';
import { AUTH_ENV, signIn, TEST_USER } from './support/login.ts';
import { contractAlert, type RealNotification, startRealNotification } from './support/real-notification.ts';

const ACK_TOKEN = 'dashboard-ack-token-7c1e';
const READ_TOKEN = 'dashboard-read-token-2b9d';
const SAME_ORIGIN = { 'content-type': 'application/json', origin: 'http://dashboard.test', host: 'dashboard.test', 'sec-fetch-site': 'same-origin' };

/** The dashboard against the real notification service: its 400s and its token scopes. */
describe('dashboard and the real notification API', () => {
  let dir: string;
  let notification: RealNotification;
  let withAck: DashboardServer;
  let readOnly: DashboardServer;
  const alert = contractAlert({});

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'af-dash-tokens-'));
    await writeFile(join(dir, 'tokens'), `${ACK_TOKEN} scopes=read,ack name=event-audit-dashboard\n${READ_TOKEN} scopes=read\n`);
    notification = await startRealNotification({ token: '', env: { API_TOKENS: '', API_TOKENS_FILE: join(dir, 'tokens') } });
    await notification.publish(alert);
    const build = (token: string) =>
      buildDashboardServer({
        config: loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: notification.url, NOTIFICATION_API_TOKEN: token, ...AUTH_ENV }),
        logger: silentLogger,
      }).then((server) => signIn(server));
    withAck = await build(ACK_TOKEN);
    readOnly = await build(READ_TOKEN);
  });
  after(async () => {
    await withAck.app.close();
    await readOnly.app.close();
    await notification.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a search without any word (q=%) is the 400 page, not every alert', async () => {
    const response = await withAck.app.inject({ method: 'GET', url: '/?q=%25' });
    assert.equal(response.statusCode, 400);
    assert.match(response.body, /These filters are not valid/);
    assert.match(response.body, /no letter or digit/);
  });

  test('the list page works through the typed client', async () => {
    const response = await withAck.app.inject({ method: 'GET', url: `/?host=${String((alert['impacted_resource'] as { server_hostname: string }).server_hostname)}` });
    assert.equal(response.statusCode, 200);
    assert.ok(response.body.includes(String(alert['alert_id'])));
  });

  test('a token with ack acknowledges; a read-only token is reported as refused, never passed on', async () => {
    const url = `/api/alerts/${String(alert['alert_id'])}/status`;
    const refused = await readOnly.app.inject({ method: 'POST', url, headers: SAME_ORIGIN, payload: { status: 'acknowledged' } });
    assert.equal(refused.statusCode, 502);
    assert.equal(refused.json().code, 'AF_BACKEND_AUTH_REJECTED');
    const done = await withAck.app.inject({ method: 'POST', url, headers: SAME_ORIGIN, payload: { status: 'acknowledged', note: 'seen' } });
    assert.equal(done.statusCode, 200);
    assert.equal(done.json().status, 'acknowledged');
    assert.equal(done.json().status_changed_by, TEST_USER, 'the logged-in person is recorded');
  });
});
