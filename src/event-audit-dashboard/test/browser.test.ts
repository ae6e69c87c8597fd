import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServiceHandle } from '@auditflow/common';
import type { Browser, BrowserContext } from 'playwright-core';
import { silentLogger } from '../../common/test/support.ts';
import { loadDashboardConfig, startDashboard } from '../src/index.ts';
import { AUTH_ENV, signedInBrowser } from './support/login.ts';
import { launchBrowser, screenshot, watchErrors } from './support/browser.ts';
import { startFakeNotification } from './support/fake-notification.ts';
import { contractAlert, type RealNotification, startRealNotification } from './support/real-notification.ts';

const TOKEN = 'browser-test-token-0123456789';

describe('dashboard in a browser against the real notification-service', () => {
  let backend: RealNotification;
  let dashboard: ServiceHandle;
  let browser: Browser;
  let context: BrowserContext;
  const seeded: Record<string, unknown>[] = [];

  before(async () => {
    backend = await startRealNotification({ token: TOKEN });
    const now = Date.now();
    const seed: [string, string, string, string, number][] = [
      ['CRITICAL', 'Multiple Failed Login Attempts', 'attacker_bob', 'prod-db-02', 2],
      ['HIGH', 'Password spraying from one source address', 'guest_user', 'prod-web-01', 9],
      ['WARNING', 'Service stopped unexpectedly', 'monitoring_agent', 'dev-api-03', 25],
      ['LOW', 'New user account created', 'devops_admin', 'test-worker-04', 70],
      ['INFO', 'Successful login after brute-force burst', 'app_user', 'prod-web-01', 200],
      ['CRITICAL', 'Sensitive File Modification Detected', 'attacker_bob', 'prod-db-02', 400],
    ];
    for (const [severity, name, user, host, minutesAgo] of seed) {
      const alert = contractAlert({ severity, name, user, host, at: new Date(now - minutesAgo * 60_000) });
      seeded.push(alert);
      await backend.publish(alert);
    }
    const config = loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: backend.url, NOTIFICATION_API_TOKEN: TOKEN, ...AUTH_ENV });
    dashboard = await startDashboard({ config: { ...config, host: '127.0.0.1' }, logger: silentLogger });
    browser = signedInBrowser(await launchBrowser(), dashboard.urls.http!);
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Europe/Berlin', locale: 'en-GB' });
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    await dashboard?.stop();
    await backend?.stop();
  });

  test('the list shows alerts, tiles and chart, and a new alert appears live without a reload', async () => {
    const page = await context.newPage();
    const errors = watchErrors(page);
    const response = await page.goto(`${dashboard.urls.http}/`);
    assert.equal(response?.status(), 200);
    await page.locator('[data-conn][data-state="live"]').waitFor();
    assert.equal(await page.locator('#alert-list tbody tr[data-id]').count(), 6);
    // Times are localised (Berlin) with a relative age; the UTC instant stays in datetime.
    const first = page.locator('#alert-list tbody tr[data-id]').first().locator('time');
    assert.match((await first.getAttribute('title')) ?? '', /Z \(UTC\)$/);
    assert.doesNotMatch((await first.textContent()) ?? '', /UTC/);
    await page.evaluate(() => Object.assign(window, { __noReload: true }));
    await screenshot(page, 'list');

    const live = contractAlert({ severity: 'HIGH', name: 'Live one: brute force then success', user: 'eve' });
    await backend.publish(live);
    const row = page.locator(`#alert-list tbody tr[data-id][data-id="${String(live['alert_id'])}"]`);
    await row.waitFor();
    assert.equal(await page.locator('#alert-list tbody tr[data-id]').first().getAttribute('data-id'), live['alert_id']);
    assert.equal(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload), true);
    assert.match((await row.getAttribute('class')) ?? '', /is-fresh/);
    await page.locator('[data-count="high"]', { hasText: '2' }).waitFor();
    await screenshot(page, 'list-live');

    // A change made elsewhere (another operator, the API) updates the row in place.
    const patched = await fetch(`${backend.url}/alerts/${String(live['alert_id'])}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ status: 'acknowledged', actor: 'someone-else' }),
    });
    assert.equal(patched.status, 200);
    await row.locator('.status-acknowledged').waitFor();
    assert.equal(await page.locator(`#alert-list tbody tr[data-id][data-id="${String(live['alert_id'])}"]`).count(), 1);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('filters go into the URL and narrow the list', async () => {
    const page = await context.newPage();
    await page.goto(`${dashboard.urls.http}/`);
    await page.locator('details.filters > summary').click();
    await page.getByLabel('CRITICAL').check();
    await page.getByLabel('User', { exact: true }).fill('attacker_bob');
    await page.getByLabel('Time range').selectOption('24h');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/severity=CRITICAL/);
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('user'), 'attacker_bob');
    assert.equal(url.searchParams.get('range'), '24h');
    const severities = await page.locator('#alert-list .sev').allTextContents();
    assert.ok(severities.length >= 1);
    assert.ok(severities.every((s) => s === 'CRITICAL'));
    await screenshot(page, 'filters');

    // A custom range is typed in local time (Berlin, UTC+1 in winter) and lands in the URL as UTC.
    // The panel is open already: filters are active.
    assert.equal(await page.locator('details.filters').getAttribute('open'), '');
    assert.equal(await page.getByLabel('From').isVisible(), false);
    await page.getByLabel('Time range').selectOption('custom');
    await page.getByLabel('From').fill('2026-01-10T10:00');
    await page.getByLabel('To').fill('2026-01-10T12:30');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/range=custom/);
    const custom = new URL(page.url());
    assert.equal(custom.searchParams.get('since'), '2026-01-10T09:00:00.000Z');
    assert.equal(custom.searchParams.get('until'), '2026-01-10T11:30:00.000Z');
    assert.equal(await page.getByLabel('From').inputValue(), '2026-01-10T10:00');
    await page.locator('[data-empty]', { hasText: 'No alerts match these filters' }).waitFor();

    // "Load older alerts" appends the next keyset page in place.
    await page.goto(`${dashboard.urls.http}/?limit=2`);
    assert.equal(await page.locator('#alert-list tbody tr[data-id]').count(), 2);
    await page.getByRole('button', { name: 'Load older alerts' }).click();
    await page.locator('#alert-list tbody tr[data-id]').nth(3).waitFor();
    assert.equal(new Set(await page.locator('#alert-list tbody tr[data-id]').evaluateAll((els) => els.map((el) => el.getAttribute('data-id')))).size, 4);

    await page.goto(`${dashboard.urls.http}/?user=nobody-at-all`);
    await page.locator('[data-empty]', { hasText: 'No alerts match these filters' }).waitFor();
    await screenshot(page, 'empty');
    await page.close();
  });

  test('the detail page acknowledges with a note and shows the history', async () => {
    const target = seeded.find((r) => r['alert_name'] === 'Sensitive File Modification Detected')!;
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${dashboard.urls.http}/`);
    await page.getByRole('link', { name: 'Sensitive File Modification Detected', exact: true }).click();
    await page.waitForURL(/\/alert\//);
    await page.getByRole('heading', { name: 'Triggering event' }).waitFor();
    await page.getByLabel('Note').fill('Looking into it with the DB team');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator('[data-form-message]', { hasText: 'Alert acknowledged.' }).waitFor();
    await page.locator('.history li', { hasText: 'Looking into it with the DB team' }).waitFor();
    assert.equal(await page.locator('[data-status-badge] .status').textContent(), 'Acknowledged');
    const stored = (await (await fetch(`${backend.url}/alerts/${String(target['alert_id'])}`)).json()) as Record<string, unknown>;
    assert.equal(stored['status'], 'acknowledged');
    assert.equal(stored['status_note'], 'Looking into it with the DB team');
    await screenshot(page, 'detail');
    // Keyboard: the next action is reachable by Tab from the note and operable without a mouse.
    await page.getByLabel('Note').focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Resolve');
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    assert.equal(ring, 'solid', 'the focused button shows a focus ring');
    await screenshot(page, 'detail-keyboard-focus', { fullPage: false });
    await page.keyboard.press('Enter');
    await page.locator('[data-form-message]', { hasText: 'Alert resolved.' }).waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('dark mode follows the system setting', async () => {
    const dark = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
    try {
      const page = await dark.newPage();
      await page.goto(`${dashboard.urls.http}/`);
      await page.locator('[data-conn][data-state="live"]').waitFor();
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const [r = 255, g = 255, b = 255] = (background.match(/\d+/g) ?? []).map(Number);
      assert.ok(r + g + b < 150, `body background ${background} is not dark`);
      await screenshot(page, 'list-dark', { fullPage: false });
    } finally {
      await dark.close();
    }
  });

  test('without JavaScript the pages still list, filter and show alerts', async () => {
    const noJs = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled: false });
    try {
      const page = await noJs.newPage();
      await page.goto(`${dashboard.urls.http}/`);
      assert.ok((await page.locator('#alert-list tbody tr[data-id]').count()) >= 6);
      await page.locator('details.filters > summary').click();
      await page.getByLabel('HIGH').check();
      await page.getByRole('button', { name: 'Apply filters' }).click();
      await page.waitForURL(/severity=HIGH/);
      const severities = await page.locator('#alert-list .sev').allTextContents();
      assert.ok(severities.length >= 1 && severities.every((s) => s === 'HIGH'));
      await page.locator('#alert-list .c-name a').first().click();
      await page.getByRole('heading', { name: 'Triggering event' }).waitFor();
      assert.match((await page.locator('time').first().textContent()) ?? '', / UTC$/);
      await screenshot(page, 'detail-no-js', { fullPage: false });
    } finally {
      await noJs.close();
    }
  });

  test('attacker-controlled alert content is shown as text and never runs', async () => {
    const evil = contractAlert({
      severity: '<b>HIGH</b>',
      name: '<img src=x onerror="window.__pwned=1">',
      description: '<script>window.__pwned=2</script>',
      user: '"><svg onload="window.__pwned=3">',
      rawEvent: { command: '</code></pre><script>window.__pwned=4</script>' },
      playbookUrl: 'javascript:window.__pwned=5',
    });
    await backend.publish(evil);
    const page = await context.newPage();
    let dialogs = 0;
    page.on('dialog', (dialog) => {
      dialogs += 1;
      void dialog.dismiss();
    });
    await page.goto(`${dashboard.urls.http}/`);
    await page.getByRole('link', { name: '<img src=x onerror="window.__pwned=1">', exact: true }).click();
    await page.getByRole('heading', { name: '<img src=x onerror="window.__pwned=1">' }).waitFor();
    assert.match((await page.locator('.card-json pre').first().textContent()) ?? '', /<\/code><\/pre><script>/);
    assert.equal(await page.locator('a[href^="javascript:"]').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(dialogs, 0);
    await page.close();
  });

  test('the phone layout fits 390 px without horizontal scrolling', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await phone.newPage();
    await page.goto(`${dashboard.urls.http}/`);
    await page.locator('[data-conn][data-state="live"]').waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    await screenshot(page, 'phone', { fullPage: false });
    await page.locator('details.filters > summary').click();
    await screenshot(page, 'phone-filters', { fullPage: false });
    const id = String(seeded[1]!['alert_id']);
    await page.goto(`${dashboard.urls.http}/alert/${id}`);
    const detailOverflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(detailOverflow <= 0, `detail page is ${detailOverflow}px wider than the phone`);
    await screenshot(page, 'phone-detail', { fullPage: false });
    await page.getByRole('heading', { name: 'Status' }).scrollIntoViewIfNeeded();
    await screenshot(page, 'phone-detail-status', { fullPage: false });
    await phone.close();
  });
});

describe('dashboard in a browser when the notification service is down', () => {
  test('shows a clear unavailable state with HTTP 503 and a retry', async () => {
    // A port that was just in use and is now closed: connection refused.
    const unused = await startFakeNotification();
    const deadUrl = unused.url;
    await unused.close();
    const config = loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: deadUrl, REQUEST_TIMEOUT_MS: '1000', ...AUTH_ENV });
    const dashboard = await startDashboard({ config: { ...config, host: '127.0.0.1' }, logger: silentLogger });
    const browser = signedInBrowser(await launchBrowser(), dashboard.urls.http!);
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const response = await page.goto(`${dashboard.urls.http}/`);
      assert.equal(response?.status(), 503);
      await page.getByRole('heading', { name: 'Notification service unavailable' }).waitFor();
      await page.getByRole('link', { name: 'Retry now' }).waitFor();
      await page.locator('[data-retry-status]', { hasText: 'Checking again' }).waitFor();
      await screenshot(page, 'backend-down');
    } finally {
      await browser.close();
      await dashboard.stop();
    }
  });
});

describe('dashboard in a browser when the live connection drops', () => {
  test('the indicator goes offline and the stream reconnects with backoff', async () => {
    let backend = await startFakeNotification();
    const port = Number(new URL(backend.url).port);
    backend.add({ alert_name: 'before the outage' });
    const config = loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: backend.url, REQUEST_TIMEOUT_MS: '1000', ...AUTH_ENV });
    const dashboard = await startDashboard({ config: { ...config, host: '127.0.0.1' }, logger: silentLogger });
    const browser = signedInBrowser(await launchBrowser(), dashboard.urls.http!);
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.goto(`${dashboard.urls.http}/`);
      await page.locator('[data-conn][data-state="live"]').waitFor();
      await backend.close();
      await page.locator('[data-conn][data-state="offline"]', { hasText: 'retrying in' }).waitFor();
      await screenshot(page, 'offline', { fullPage: false });
      backend = await startFakeNotification({ port });
      // Stored while the browser was still waiting to reconnect: no event will ever announce it,
      // so it can only appear through the resync after the reconnect.
      const missed = backend.add({ alert_name: 'during the outage' });
      await page.locator('[data-conn][data-state="live"]').waitFor({ timeout: 45_000 });
      await page.locator(`#alert-list tbody tr[data-id][data-id="${String(missed['alert_id'])}"]`).waitFor();
    } finally {
      await browser.close();
      await dashboard.stop();
      await backend.close();
    }
  });
});
