import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger } from '../../common/test/support.ts';
import { createRegistry } from '@auditflow/common';
import { BackendMetrics } from '../src/backend/metrics.ts';
import { NotificationClient } from '../src/backend/notification-client.ts';
import { ResponseApi } from '../src/backend/response-api.ts';
import { buildDashboardServer, loadDashboardConfig } from '../src/index.ts';
import { contractAlert, startRealNotification } from './support/real-notification.ts';

const ADMIN_TOKEN = 'triage-admin-token-3e9d0c';
const SAME_ORIGIN = { 'content-type': 'application/json', origin: 'http://dashboard.test', host: 'dashboard.test', 'sec-fetch-site': 'same-origin' };

test('silences and deliveries through the dashboard against the real notification-service', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'af-dash-triage-'));
  await writeFile(join(dir, 'tokens'), `${ADMIN_TOKEN} scopes=read,ack,admin name=event-audit-dashboard\n`);
  const notification = await startRealNotification({ token: '', env: { API_TOKENS: '', API_TOKENS_FILE: join(dir, 'tokens') } });
  const server = await buildDashboardServer({
    config: loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: notification.url, NOTIFICATION_API_TOKEN: ADMIN_TOKEN }),
    logger: silentLogger,
  });
  try {
    const alert = contractAlert({ host: 'triage-real-host' });
    await notification.publish(alert);
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/silences',
      headers: SAME_ORIGIN,
      payload: {
        matchers: [{ name: 'host', value: 'triage-real-host', isRegex: false, isEqual: true }],
        comment: 'real backend',
        created_by: 'dana',
        ends_at: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const silence = created.json() as Record<string, unknown>;
    assert.equal(silence['status'], 'active');
    const page = await server.app.inject({ url: '/silences' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<code>triage-real-host<\/code>/);
    const deliveries = await server.app.inject({ url: `/api/alerts/${String(alert['alert_id'])}/deliveries` });
    assert.equal(deliveries.statusCode, 200, deliveries.body);
    assert.ok(Array.isArray((deliveries.json() as { deliveries: unknown[] }).deliveries));
    const detail = await server.app.inject({ url: `/alert/${String(alert['alert_id'])}` });
    assert.match(detail.body, /<h2 id="card-deliveries">Deliveries<\/h2>/);
    const expired = await server.app.inject({ method: 'POST', url: `/api/silences/${String(silence['id'])}/expire`, headers: SAME_ORIGIN, payload: {} });
    assert.equal(expired.statusCode, 200, expired.body);
    assert.equal(expired.json().status, 'expired');
  } finally {
    await server.app.close();
    await notification.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('reporting a dashboard user address to the real notification-service succeeds on its 204 (no body to parse)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'af-dash-operator-'));
  await writeFile(join(dir, 'tokens'), `${ADMIN_TOKEN} scopes=read,ack,admin name=event-audit-dashboard\n`);
  const notification = await startRealNotification({ token: '', env: { API_TOKENS: '', API_TOKENS_FILE: join(dir, 'tokens') } });
  try {
    const client = new NotificationClient({ baseUrl: notification.url, timeoutMs: 5000, metrics: new BackendMetrics(createRegistry('event-audit-dashboard')) });
    await new ResponseApi(client).reportOperator('192.0.2.44', 'dana', ADMIN_TOKEN);
  } finally {
    await notification.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
