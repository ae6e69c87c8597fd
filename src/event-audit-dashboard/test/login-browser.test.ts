import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServiceHandle } from '@auditflow/common';
import type { Browser } from 'playwright-core';
import { silentLogger } from '../../common/test/support.ts';
import { loadDashboardConfig, startDashboard } from '../src/index.ts';
import { launchBrowser, screenshot, watchErrors } from './support/browser.ts';
import { AUTH_ENV, loginCookie, TEST_PASSWORD, TEST_USER } from './support/login.ts';
import { contractAlert, type RealNotification, startRealNotification } from './support/real-notification.ts';

const TOKEN = 'login-browser-token-9c1e77';

/** A raw request, so that Host and Origin are exactly what an attacker's page would send. */
function raw(url: string, options: { method: string; headers: Record<string, string>; body?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method, headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('people log in to the dashboard (real notification-service, headless chromium)', () => {
  let dir: string;
  let notification: RealNotification;
  let dashboard: ServiceHandle;
  let base: string;
  let browser: Browser;
  const alert = contractAlert({ host: 'login-test-host' });
  const alertId = String(alert['alert_id']);
  const statusOf = async () => (await (await fetch(`${notification.url}/alerts/${alertId}`)).json()) as Record<string, unknown>;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'af-dash-login-'));
    await writeFile(join(dir, 'tokens'), `${TOKEN} scopes=read,ack,admin name=event-audit-dashboard\n`);
    notification = await startRealNotification({ token: '', env: { API_TOKENS: '', API_TOKENS_FILE: join(dir, 'tokens') } });
    await notification.publish(alert);
    const config = loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: notification.url, NOTIFICATION_API_TOKEN: TOKEN, ...AUTH_ENV });
    dashboard = await startDashboard({ config: { ...config, host: '127.0.0.1' }, logger: silentLogger });
    base = dashboard.urls['http']!;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await dashboard?.stop();
    await notification?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('an unauthenticated person gets the login page and cannot change an alert', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      const errors = watchErrors(page);
      await page.goto(`${base}/alert/${alertId}`);
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.equal(new URL(page.url()).searchParams.get('next'), `/alert/${alertId}`);
      await page.getByRole('heading', { name: 'Log in to AuditFlow' }).waitFor();
      await screenshot(page, 'login');
      // Same origin, right content type, but nobody logged in.
      const answer = await page.evaluate(async (url) => {
        const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"status":"resolved"}' });
        return { status: response.status, body: await response.json() };
      }, `${base}/api/alerts/${alertId}/status`);
      assert.equal(answer.status, 401);
      assert.equal(answer.body.code, 'AF_LOGIN_REQUIRED');
      const api = await fetch(`${base}/api/alerts`);
      assert.equal(api.status, 401);
      assert.deepEqual(errors.filter((e) => !e.includes('401')), []);
      assert.equal((await statusOf())['status'], 'open');
    } finally {
      await context.close();
    }
  });

  test('a wrong password is refused on the page, and the form says so', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      await page.goto(`${base}/login`);
      await page.getByLabel('User name').fill(TEST_USER);
      await page.getByLabel('Password').fill('not-the-password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').waitFor();
      assert.match(await page.getByRole('alert').innerText(), /Wrong user name or password/);
      assert.deepEqual(await context.cookies(), []);
      await screenshot(page, 'login-wrong-password');
    } finally {
      await context.close();
    }
  });

  test('a cross-origin request and a DNS-rebinding request cannot change an alert, even with a session', async () => {
    const cookie = await loginCookie(base);
    const port = new URL(base).port;
    const body = JSON.stringify({ status: 'resolved' });
    const crossOrigin = await raw(`${base}/api/alerts/${alertId}/status`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', origin: 'http://attacker.example', 'sec-fetch-site': 'cross-site' },
      body,
    });
    assert.equal(crossOrigin.status, 403);
    assert.equal(JSON.parse(crossOrigin.body).code, 'AF_CSRF_REJECTED');
    // The attacker's name rebound to this address: Host and Origin agree, both the attacker's.
    const rebinding = await raw(`${base}/api/alerts/${alertId}/status`, {
      method: 'POST',
      headers: { cookie, host: `attacker.example:${port}`, 'content-type': 'application/json', origin: `http://attacker.example:${port}`, 'sec-fetch-site': 'same-origin' },
      body,
    });
    assert.equal(rebinding.status, 421);
    assert.equal(JSON.parse(rebinding.body).code, 'AF_HOST_NOT_ALLOWED');
    const silence = await raw(`${base}/api/silences`, {
      method: 'POST',
      headers: { cookie, host: `attacker.example:${port}`, 'content-type': 'application/json', origin: `http://attacker.example:${port}` },
      body: JSON.stringify({ matchers: [{ name: 'host', value: 'x', isRegex: false, isEqual: true }], comment: 'x', ends_at: new Date(Date.now() + 3_600_000).toISOString() }),
    });
    assert.equal(silence.status, 421);
    // A forward-auth header from an address that is not a configured proxy is not believed.
    const forged = await raw(`${base}/api/alerts`, { method: 'GET', headers: { 'remote-user': 'admin' } });
    assert.equal(forged.status, 401);
    assert.equal((await statusOf())['status'], 'open');
  });

  test('a logged-in person acknowledges, and the notification service records who', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      const errors = watchErrors(page);
      await page.goto(`${base}/alert/${alertId}`);
      await page.getByLabel('User name').fill(TEST_USER);
      await page.getByLabel('Password').fill(TEST_PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${base}/alert/${alertId}`);
      const [session] = await context.cookies();
      assert.equal(session?.httpOnly, true);
      assert.equal(session?.sameSite, 'Strict');
      assert.match(await page.locator('[data-person]').innerText(), new RegExp(`^${TEST_USER}$`));
      await page.getByRole('button', { name: 'Acknowledge' }).click();
      await page.waitForFunction(async (url) => (await (await fetch(url)).json()).status === 'acknowledged', `${base}/api/alerts/${alertId}`);
      const stored = await statusOf();
      assert.equal(stored['status'], 'acknowledged');
      assert.equal(stored['status_changed_by'], TEST_USER);
      const history = stored['history'] as { actor: string; to_status: string }[];
      assert.equal(history.at(-1)?.actor, TEST_USER);
      await screenshot(page, 'logged-in-detail');
      // Logging out ends the session on the server: the old cookie is worth nothing.
      const before = (await context.cookies())[0]!;
      await page.getByRole('button', { name: 'Log out' }).click();
      await page.waitForURL(`${base}/login`);
      const replay = await raw(`${base}/api/alerts`, { method: 'GET', headers: { cookie: `${before.name}=${before.value}` } });
      assert.equal(replay.status, 401);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});
