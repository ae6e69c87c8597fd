import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServiceHandle } from '@auditflow/common';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { silentLogger } from '../../common/test/support.ts';
import { loadDashboardConfig, startDashboard } from '../src/index.ts';
import { launchBrowser, screenshot, watchErrors } from './support/browser.ts';
import { type FakeNotification, startFakeNotification } from './support/fake-notification.ts';

const TOKEN = 'triage-browser-token-8c1f';
const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];
const RULES: [string, string, string][] = [
  ['ANLY-SEC-001', 'Failed Login Burst Detection', 'Multiple Failed Login Attempts'],
  ['ANLY-SEC-002', 'Password Spraying', 'Password spraying from one source address'],
  ['ANLY-SEC-004', 'Sensitive File Modification', 'Sensitive File Modification Detected'],
  ['ANLY-OPS-001', 'Service Stopped', 'Service stopped unexpectedly'],
];
const HOSTS = ['prod-db-02', 'prod-web-01', 'dev-api-03', 'test-worker-04', 'prod-web-07'];
const USERS = ['attacker_bob', 'guest_user', 'monitoring_agent', 'devops_admin', 'app_user', 'eve'];

/** Rows in table order (their data-id), as the user sees them. */
const shownIds = (page: Page) => page.locator('#alert-list tbody tr[data-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')));

describe('triage view in a browser (contract fake of the notification API)', () => {
  let backend: FakeNotification;
  let dashboard: ServiceHandle;
  let browser: Browser;
  let wide: BrowserContext;

  before(async () => {
    backend = await startFakeNotification({ tokens: [TOKEN] });
    const now = Date.now();
    for (let i = 0; i < 36; i++) {
      const [ruleId, ruleName, name] = RULES[i % RULES.length]!;
      const host = HOSTS[i % HOSTS.length]!;
      const user = USERS[i % USERS.length]!;
      const at = new Date(now - (i * 7 + 1) * 60_000).toISOString();
      backend.add({
        severity: SEVERITIES[(i * 3) % SEVERITIES.length],
        rule_id: ruleId,
        rule_name: ruleName,
        alert_name: name,
        server_hostname: host,
        actor_id: user,
        count: 1 + ((i * 5) % 13),
        timestamp: at,
        first_seen: at,
        last_seen: at,
        received_at: at,
        updated_at: at,
        description: `${name} for ${user} on ${host}.`,
      });
    }
    const config = loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: backend.url, NOTIFICATION_API_TOKEN: TOKEN });
    dashboard = await startDashboard({ config: { ...config, host: '127.0.0.1' }, logger: silentLogger });
    browser = await launchBrowser();
    wide = await browser.newContext({ viewport: { width: 1440, height: 900 }, timezoneId: 'Europe/Berlin', locale: 'en-GB' });
  });

  after(async () => {
    await wide?.close();
    await browser?.close();
    await dashboard?.stop();
    await backend?.close();
  });

  test('at 1440×900 the table shows at least 20 alerts without scrolling, one row each', async () => {
    const page = await wide.newPage();
    const errors = watchErrors(page);
    await page.goto(`${dashboard.urls.http}/`);
    await page.locator('[data-conn][data-state="live"]').waitFor();
    const visible = await page.locator('#alert-list tbody tr[data-id]').evaluateAll(
      (rows) => rows.filter((r) => r.getBoundingClientRect().bottom <= window.innerHeight && r.getBoundingClientRect().top >= 0).length,
    );
    assert.ok(visible >= 20, `only ${visible} alert rows fit in 1440×900`);
    // One line per alert: every row is as tall as the first.
    const heights = await page.locator('#alert-list tbody tr[data-id]').evaluateAll((rows) => rows.map((r) => Math.round(r.getBoundingClientRect().height)));
    assert.ok(Math.max(...heights) <= 36, `rows are ${Math.max(...heights)} px high`);
    const headers = await page.locator('#alert-list thead th').allTextContents();
    for (const column of ['Severity', 'Rule', 'Host', 'User', 'Count', 'Age', 'Status']) {
      assert.ok(headers.some((h) => h.includes(column)), `column ${column}`);
    }
    const first = page.locator('#alert-list tbody tr[data-id]').first();
    assert.match((await first.locator('.c-age').textContent()) ?? '', /min|now/);
    await screenshot(page, 'triage-wide', { fullPage: false });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('sorting by severity, count and time, and grouping by rule or host with counts', async () => {
    const page = await wide.newPage();
    const errors = watchErrors(page);
    await page.goto(`${dashboard.urls.http}/`);
    await page.locator('[data-conn][data-state="live"]').waitFor();
    const newestFirst = await shownIds(page);

    await page.getByRole('link', { name: 'Severity' }).click();
    await page.waitForURL(/sort=severity/);
    const ranks = await page.locator('#alert-list tbody tr[data-id]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-rank'))));
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));
    assert.equal(await page.locator('#alert-list tbody tr[data-id] .sev').first().textContent(), 'CRITICAL');
    assert.equal(await page.locator('th[aria-sort="descending"]').textContent(), 'Severity ▾');

    await page.getByRole('link', { name: 'Count' }).click();
    const counts = await page.locator('#alert-list tbody tr[data-id]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-count'))));
    assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
    assert.ok(counts[0]! > counts.at(-1)!);

    await page.getByRole('link', { name: 'Age' }).click();
    assert.deepEqual(await shownIds(page), newestFirst);

    await page.getByRole('navigation', { name: 'Group by' }).getByRole('link', { name: 'Rule' }).click();
    await page.waitForURL(/group=rule/);
    const groups = page.locator('#alert-list tr.group-head');
    assert.equal(await groups.count(), RULES.length);
    assert.match((await groups.first().textContent()) ?? '', /9 alerts/);
    for (const body of await page.locator('#alert-list tbody').all()) {
      const rules = await body.locator('tr[data-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-rule')));
      assert.equal(new Set(rules).size, 1, 'one rule per group');
    }
    await screenshot(page, 'triage-grouped-rule', { fullPage: false });

    await page.getByRole('navigation', { name: 'Group by' }).getByRole('link', { name: 'Host' }).click();
    assert.equal(await page.locator('#alert-list tr.group-head').count(), HOSTS.length);

    // The same arrangement comes from the server (a reload, or no JavaScript).
    const arranged = await shownIds(page);
    await page.reload();
    assert.deepEqual(await shownIds(page), arranged);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('multi-select with bulk acknowledge and resolve', async () => {
    const page = await wide.newPage();
    const errors = watchErrors(page);
    await page.goto(`${dashboard.urls.http}/`);
    await page.locator('[data-conn][data-state="live"]').waitFor();
    const rows = page.locator('#alert-list tbody tr[data-id]');
    const ids = (await shownIds(page)).slice(0, 3) as string[];
    for (const i of [0, 1, 2]) await rows.nth(i).locator('[data-select]').check();
    await page.locator('[data-bulk-count]', { hasText: '3 selected' }).waitFor();
    await screenshot(page, 'triage-selected', { fullPage: false });
    await page.locator('[data-bulk]').getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator('[data-list-note]', { hasText: '3 alerts acknowledged.' }).waitFor();
    for (const id of ids) {
      assert.equal(backend.rows.find((r) => r['alert_id'] === id)?.['status'], 'acknowledged');
      await page.locator(`tr[data-id="${id}"] .status-acknowledged`).waitFor();
    }
    const patches = backend.requests.filter((r) => r.method === 'PATCH');
    assert.equal(patches.length, 3);
    assert.ok(patches.every((r) => r.headers['authorization'] === `Bearer ${TOKEN}`));
    assert.equal(await page.locator('[data-bulk]').isHidden(), true, 'the selection is cleared');

    // Select all, then resolve everything shown.
    await page.locator('[data-select-all]').check();
    const total = await rows.count();
    await page.locator('[data-bulk-count]', { hasText: `${total} selected` }).waitFor();
    await page.locator('[data-bulk]').getByRole('button', { name: 'Resolve' }).click();
    await page.locator('[data-list-note]', { hasText: `${total} alerts resolved.` }).waitFor();
    assert.equal(backend.rows.filter((r) => r['status'] === 'resolved').length, total);
    assert.equal(await page.content().then((html) => html.includes(TOKEN)), false);
    // Reopen them for the other tests.
    for (const row of backend.rows) backend.update(String(row['alert_id']), { status: 'open' });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('keyboard: j/k move, x selects, a acknowledges, ? shows the keys', async () => {
    const page = await wide.newPage();
    const errors = watchErrors(page);
    await page.goto(`${dashboard.urls.http}/`);
    await page.locator('[data-conn][data-state="live"]').waitFor();
    const ids = (await shownIds(page)) as string[];
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.keyboard.press('k');
    const cursor = page.locator('tr.is-cursor');
    assert.equal(await cursor.getAttribute('data-id'), ids[1]);
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-id')), ids[1]);
    const ring = await cursor.evaluate((el) => getComputedStyle(el).outlineStyle);
    assert.equal(ring, 'solid', 'the current row is outlined');
    await page.keyboard.press('x');
    assert.equal(await cursor.locator('[data-select]').isChecked(), true);
    await page.keyboard.press('j');
    await page.keyboard.press('x');
    await page.locator('[data-bulk-count]', { hasText: '2 selected' }).waitFor();
    await page.keyboard.press('a');
    await page.locator('[data-list-note]', { hasText: '2 alerts acknowledged.' }).waitFor();
    assert.equal(backend.rows.find((r) => r['alert_id'] === ids[1])?.['status'], 'acknowledged');
    assert.equal(backend.rows.find((r) => r['alert_id'] === ids[2])?.['status'], 'acknowledged');
    // Without a selection, a acknowledges the current row.
    await page.keyboard.press('j');
    await page.keyboard.press('a');
    await page.locator(`tr[data-id="${ids[3]}"] .status-acknowledged`).waitFor();

    await page.keyboard.press('?');
    const help = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await help.waitFor();
    assert.match((await help.textContent()) ?? '', /j \/ k.*Next \/ previous alert/s);
    await screenshot(page, 'triage-help', { fullPage: false });
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });

    // Typing in a field never triggers a shortcut.
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'f-q');
    await page.keyboard.type('jkxa');
    assert.equal(await page.locator('#f-q').inputValue(), 'jkxa');
    // Enter opens the current alert.
    await page.locator(`tr[data-id="${ids[0]}"]`).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/alert/${ids[0]}`));
    for (const row of backend.rows) backend.update(String(row['alert_id']), { status: 'open' });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('live updates keep working in the table, in the chosen order', async () => {
    const page = await wide.newPage();
    const errors = watchErrors(page);
    await page.goto(`${dashboard.urls.http}/?sort=severity`);
    await page.locator('[data-conn][data-state="live"]').waitFor();
    const fresh = backend.add({ severity: 'CRITICAL', alert_name: 'Live critical one', count: 2 });
    const row = page.locator(`tr[data-id="${String(fresh['alert_id'])}"]`);
    await row.waitFor();
    assert.match((await row.getAttribute('class')) ?? '', /is-fresh/);
    const ranks = await page.locator('#alert-list tbody tr[data-id]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-rank'))));
    assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b));
    backend.update(String(fresh['alert_id']), { status: 'acknowledged', count: 5 });
    await row.locator('.status-acknowledged').waitFor();
    assert.equal(await row.locator('.c-count').textContent(), '×5');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('silence from an alert row (prefilled), listed as active, then expired', async () => {
    const page = await wide.newPage();
    const errors = watchErrors(page);
    await page.goto(`${dashboard.urls.http}/`);
    const first = page.locator('#alert-list tbody tr[data-id]').first();
    const alertId = String(await first.getAttribute('data-id'));
    const alert = backend.rows.find((r) => r['alert_id'] === alertId)!;
    await first.getByRole('link', { name: /Silence/ }).click();
    await page.waitForURL(/\/silences\/new\?alert=/);
    const values = await page.locator('[data-matcher-row] input[name^="value-"]').evaluateAll((inputs) => inputs.map((i) => (i as HTMLInputElement).value));
    assert.deepEqual(values, [alert['rule_id'], alert['server_hostname'], alert['actor_id']]);
    const names = await page.locator('[data-matcher-row] select[name^="name-"]').evaluateAll((s) => s.map((e) => (e as HTMLSelectElement).value));
    assert.deepEqual(names, ['rule_id', 'host', 'user']);
    // Only rule and host: uncheck the user matcher.
    await page.getByLabel('Use matcher 3').uncheck();
    await page.getByLabel('Author').fill('dana');
    await page.getByLabel('Comment').fill('maintenance on the DB host');
    await page.getByLabel('Duration').selectOption('1h');
    await screenshot(page, 'silence-new', { fullPage: false });
    await page.getByRole('button', { name: 'Create silence' }).click();
    await page.waitForURL(/\/silences\?highlight=/);
    const silence = backend.silences.at(-1)!;
    assert.deepEqual(silence['matchers'], [
      { name: 'rule_id', value: alert['rule_id'], isRegex: false, isEqual: true },
      { name: 'host', value: alert['server_hostname'], isRegex: false, isEqual: true },
    ]);
    assert.equal(silence['created_by'], 'dana');
    const post = backend.requests.find((r) => r.method === 'POST' && r.url === '/silences')!;
    assert.equal(post.headers['authorization'], `Bearer ${TOKEN}`);
    const ends = Date.parse(String(silence['ends_at'])) - Date.now();
    assert.ok(ends > 55 * 60_000 && ends <= 3_600_000, 'ends in an hour');
    const active = page.locator('section[aria-labelledby="sil-active"]');
    await active.locator(`[data-silence-id="${String(silence['id'])}"]`, { hasText: 'maintenance on the DB host' }).waitFor();
    await screenshot(page, 'silences', { fullPage: true });

    // The silenced alert says so in the list.
    await page.goto(`${dashboard.urls.http}/`);
    await page.locator(`tr[data-id="${alertId}"] .status-silenced`).waitFor();
    // At 1440 px the status cell holds its badge and "Silenced" whole: nothing is cut to "…".
    const cut = await page.locator(`tr[data-id="${alertId}"] td.c-status`).evaluate((cell) => cell.scrollWidth > cell.clientWidth);
    assert.equal(cut, false, 'the Silenced badge fits its cell');
    await screenshot(page, 'triage-silenced', { fullPage: false });

    await page.goto(`${dashboard.urls.http}/silences`);
    await active.getByRole('button', { name: 'Expire now' }).click();
    await page.waitForURL(/highlight=/);
    await page.locator(`section[aria-labelledby="sil-expired"] [data-silence-id="${String(silence['id'])}"]`).waitFor();
    assert.equal(await active.locator('[data-silence-id]').count(), 0);
    assert.ok(backend.requests.some((r) => r.method === 'DELETE' && r.url === `/silences/${String(silence['id'])}`));
    await page.goto(`${dashboard.urls.http}/`);
    assert.equal(await page.locator(`tr[data-id="${alertId}"] .status-silenced`).count(), 0);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the detail page: deliveries panel, one timestamp, labelled group key, raw event collapsed', async () => {
    const target = backend.add({ alert_name: 'Delivered one', count: 1, severity: 'HIGH' });
    const id = String(target['alert_id']);
    const at = new Date().toISOString();
    backend.deliveries.set(id, [
      { id: 'd1', output: 'ops-webhook', type: 'webhook', status: 'sent', attempts: 1, last_error: null, next_attempt_at: null, sent_at: at, created_at: at, updated_at: at },
      { id: 'd2', output: 'oncall-slack', type: 'slack', status: 'failed', attempts: 5, last_error: 'HTTP 500 from hooks.slack.test', next_attempt_at: null, sent_at: null, created_at: at, updated_at: at },
      { id: 'd3', output: 'alertmanager', type: 'alertmanager', status: 'pending', attempts: 2, last_error: 'connect ECONNREFUSED', next_attempt_at: at, sent_at: null, created_at: at, updated_at: at },
    ]);
    const page = await wide.newPage();
    const errors = watchErrors(page);
    await page.goto(`${dashboard.urls.http}/alert/${id}`);
    const panel = page.locator('[data-deliveries]');
    await panel.getByRole('heading', { name: 'Deliveries' }).waitFor();
    assert.equal(await panel.locator('tr[data-delivery]').count(), 3);
    assert.match((await panel.locator('tr[data-delivery="failed"]').textContent()) ?? '', /oncall-slack.*failed.*HTTP 500 from hooks\.slack\.test.*5/s);
    assert.match((await panel.locator('tr[data-delivery="sent"]').textContent()) ?? '', /ops-webhook.*sent/s);
    const occurrences = page.locator('section[aria-labelledby="card-occurrences"]');
    assert.equal(await occurrences.locator('time').count(), 1, 'a single occurrence has one timestamp');
    const grouped = await page.locator('section[aria-labelledby="card-grouped-by"] dt').allTextContents();
    assert.deepEqual(grouped, ['User', 'Host']);
    assert.equal(await page.locator('details[data-raw]').getAttribute('open'), null);
    assert.equal(await page.locator('.card-json').count(), 1, 'only the raw event, no JSON repeating the cards');
    await screenshot(page, 'detail-triage', { fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the phone shows cards and dark mode stays readable', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    try {
      const page = await phone.newPage();
      await page.goto(`${dashboard.urls.http}/`);
      await page.locator('[data-conn][data-state="live"]').waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
      const display = await page.locator('#alert-list tbody tr[data-id]').first().evaluate((el) => getComputedStyle(el).display);
      assert.equal(display, 'grid', 'rows are cards on a phone');
      assert.equal(await page.locator('#alert-list thead').isVisible(), false);
      await screenshot(page, 'triage-phone', { fullPage: false });
      await page.goto(`${dashboard.urls.http}/silences/new?alert=${String(backend.rows[0]!['alert_id'])}`);
      const silenceOverflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(silenceOverflow <= 0, `silences page is ${silenceOverflow}px wider than the phone`);
      await screenshot(page, 'silence-phone', { fullPage: false });
    } finally {
      await phone.close();
    }
    const dark = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'dark' });
    try {
      const page = await dark.newPage();
      await page.goto(`${dashboard.urls.http}/?group=rule`);
      await page.locator('[data-conn][data-state="live"]').waitFor();
      await screenshot(page, 'triage-dark', { fullPage: false });
      // Tiles: ALL and MEDIUM have their own colours, distinct from each other and from HIGH.
      const colours = await page.evaluate(() =>
        ['total', 'medium', 'high'].map((k) => getComputedStyle(document.querySelector(`.tile-${k} a`) as Element).borderTopColor),
      );
      assert.equal(new Set(colours).size, 3, `tile colours ${colours.join(', ')}`);
    } finally {
      await dark.close();
    }
  });

  test('without JavaScript the table lists, sorts and groups (server-side)', async () => {
    const noJs = await browser.newContext({ viewport: { width: 1440, height: 900 }, javaScriptEnabled: false });
    try {
      const page = await noJs.newPage();
      await page.goto(`${dashboard.urls.http}/`);
      assert.ok((await page.locator('#alert-list tbody tr[data-id]').count()) >= 20);
      assert.equal(await page.locator('[data-select]').first().isVisible(), false, 'selection needs JavaScript');
      await page.getByRole('link', { name: 'Severity' }).click();
      await page.waitForURL(/sort=severity/);
      assert.equal(await page.locator('#alert-list tbody tr[data-id] .sev').first().textContent(), 'CRITICAL');
      await page.getByRole('navigation', { name: 'Group by' }).getByRole('link', { name: 'Host' }).click();
      await page.waitForURL(/group=host/);
      assert.equal(await page.locator('#alert-list tr.group-head').count(), HOSTS.length);
      assert.match(page.url(), /sort=severity/);
    } finally {
      await noJs.close();
    }
  });
});

describe('triage view against an older notification-service (no silences, no deliveries)', () => {
  test('the silences page and the deliveries panel say so clearly', async () => {
    const backend = await startFakeNotification({ tokens: [TOKEN], legacy: true });
    const alert = backend.add({ alert_name: 'On an old service' });
    const config = loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: backend.url, NOTIFICATION_API_TOKEN: TOKEN });
    const dashboard = await startDashboard({ config: { ...config, host: '127.0.0.1' }, logger: silentLogger });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const response = await page.goto(`${dashboard.urls.http}/silences`);
      assert.equal(response?.status(), 501);
      await page.getByRole('heading', { name: 'Silences are unavailable' }).waitFor();
      assert.match((await page.locator('[data-silences-problem]').textContent()) ?? '', /does not offer silences.*upgrade notification-service/);
      const detail = await page.goto(`${dashboard.urls.http}/alert/${String(alert['alert_id'])}`);
      assert.equal(detail?.status(), 200);
      assert.match((await page.locator('[data-deliveries-problem]').textContent()) ?? '', /does not offer deliveries/);
      await screenshot(page, 'detail-old-backend', { fullPage: false });
    } finally {
      await browser.close();
      await dashboard.stop();
      await backend.close();
    }
  });
});
