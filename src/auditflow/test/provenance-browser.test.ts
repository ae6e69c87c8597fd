// The all-in-one as a homelab operator meets it, in headless Chromium: where each alert came from, the demo
// stream marked and switchable, the evidence behind a real alert, and the phone's first screen.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { Browser, BrowserContext } from 'playwright-core';
import { launchBrowser, screenshot, watchErrors } from '../../event-audit-dashboard/test/support/browser.ts';
import { type RunningPlatform, startAllInOne } from '../src/all-in-one.ts';

const run = promisify(execFile);
const token = 'operator-token-for-curl-0123456789';

let dir: string;
let platform: RunningPlatform;
let browser: Browser;
let wide: BrowserContext;
const progress: string[] = [];

interface Generator {
  name: string;
  runScenario(name: string): Promise<unknown>;
  demo: { paused: boolean; state: { reason: string } };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'af-provenance-'));
  const zero = ['DASHBOARD', 'NOTIFICATION', 'GENERATOR', 'GENERATOR_METRICS', 'ANALYSIS', 'ANALYSIS_METRICS', 'INGEST', 'INGEST_METRICS', 'SYSLOG'];
  platform = await startAllInOne(
    {
      PATH: process.env['PATH'] ?? '',
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'silent',
      // An operator's token for curl: it must not take the dashboard's own rights away.
      API_TOKENS: token,
      EVENTS_PER_SECOND: '1',
      SCENARIO_INTERVAL_SECONDS: '0',
      ...Object.fromEntries(zero.map((name) => [`${name}_PORT`, '0'])),
    },
    { progress: (line) => progress.push(line), warn: () => undefined },
  );
  browser = await launchBrowser();
  wide = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
});

after(async () => {
  await browser?.close();
  await platform?.stop();
  await rm(dir, { recursive: true, force: true });
});

const url = (name: string) => platform.services.find((service) => service.name === name)!.urls['http']!;
const generator = () => platform.services.find((service) => service.name === 'audit-event-generator') as unknown as Generator;

async function alerts(query: string): Promise<{ alert_id: string; origin: string | null; alert_name: string }[]> {
  const response = await fetch(`${url('notification-service')}/alerts?limit=100&${query}`, { headers: { authorization: `Bearer ${token}` } });
  return (await response.json()) as { alert_id: string; origin: string | null; alert_name: string }[];
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('synthetic alerts are marked, the demo stream is paused and resumed from the dashboard, and a real source stops it by itself', async () => {
  await generator().runScenario('brute-force');
  const [demo] = await until('a synthetic alert', async () => {
    const found = await alerts('origin=synthetic');
    return found.length > 0 ? found : undefined;
  });
  assert.equal(demo!.origin, 'synthetic');
  assert.ok(
    progress.some((line) => line.includes('the dashboard keeps its own token')),
    'setting API_TOKENS says the dashboard keeps its own rights',
  );

  const page = await wide.newPage();
  const errors = watchErrors(page);
  await page.goto(url('event-audit-dashboard'));
  const panel = page.locator('[data-generator-panel]');
  assert.equal(await panel.getAttribute('data-generator-running'), 'true');
  const row = page.locator(`tr.row[data-id="${demo!.alert_id}"]`);
  assert.equal((await row.locator('.badge-synthetic').textContent())?.trim(), 'Demo');
  assert.equal((await row.locator('.c-src .origin').textContent())?.trim(), 'synthetic');
  assert.equal(await page.locator('[data-bulk-status="acknowledged"]').isDisabled(), false, 'API_TOKENS did not grey out Acknowledge');
  await screenshot(page, 'provenance-demo-running', { fullPage: false });

  await page.locator('[data-generator-action="pause"]').click();
  await page.waitForSelector('[data-generator-panel][data-generator-running="false"]');
  assert.equal(generator().demo.paused, true);
  assert.equal(generator().demo.state.reason, 'operator');
  await screenshot(page, 'provenance-demo-paused', { fullPage: false });
  await page.locator('[data-generator-action="resume"]').click();
  await page.waitForSelector('[data-generator-panel][data-generator-running="true"]');
  assert.equal(generator().demo.paused, false);

  // A real source: sshd lines through syslog, as rsyslog or logger send them.
  const syslogPort = /syslog tcp\+udp 127\.0\.0\.1:(\d+)/.exec(platform.summary)![1]!;
  const file = join(dir, 'sshd.log');
  await writeFile(file, `${Array.from({ length: 7 }, (_, i) => `Failed password for pi from 203.0.113.50 port ${52000 + i} ssh2`).join('\n')}\n`);
  await run('logger', ['-n', '127.0.0.1', '-P', syslogPort, '-T', '--octet-count', '-t', 'sshd', '--id=777', '-p', 'authpriv.info', '-f', file]);
  await until('the demo stream paused by the real source', async () => (generator().demo.paused ? true : undefined));
  assert.equal(generator().demo.state.reason, 'real-source');
  assert.ok(progress.some((line) => line.includes('a real source sent') && line.includes('demo stream is paused')), progress.join('\n'));
  const [real] = await until('a syslog alert', async () => {
    const found = await alerts('origin=syslog');
    return found.length > 0 ? found : undefined;
  });

  await page.goto(url('event-audit-dashboard'));
  assert.match((await panel.textContent()) ?? '', /a real source has sent events/);
  await page.locator('details.filters > summary').click();
  await page.selectOption('#f-origin', 'real');
  await page.locator('[data-filter-form] button[type="submit"]').click();
  await page.waitForURL(/origin=real/);
  const origins = await page.locator('tr.row .c-src .origin').allTextContents();
  assert.ok(origins.length > 0);
  assert.ok(
    origins.every((text) => text.trim() !== 'synthetic'),
    `only real alerts: ${origins.join(', ')}`,
  );
  assert.equal(await page.locator('.badge-synthetic', { hasText: 'Demo' }).and(page.locator('tr .badge-synthetic')).count(), 0);
  await screenshot(page, 'provenance-real-only', { fullPage: false });
  assert.deepEqual(errors, []);

  // The evidence of the real alert, as a timeline, and the host's activity behind a link.
  await page.goto(`${url('event-audit-dashboard')}/alert/${real!.alert_id}`);
  const timeline = page.locator('[data-timeline] li[data-evidence-event]');
  assert.ok((await timeline.count()) >= 5, `the failed logins are shown: ${await timeline.count()}`);
  assert.match((await page.locator('[data-evidence]').textContent()) ?? '', /from 203\.0\.113\.50/);
  assert.match((await page.locator('#card-who-and-where').locator('..').textContent()) ?? '', /syslog/);
  await screenshot(page, 'provenance-evidence', { fullPage: true });
  await page.locator('[data-activity-link="address"]').click();
  await page.waitForURL(/\/activity\?address=/);
  assert.ok((await page.locator('[data-activity-alerts] tbody tr').count()) >= 1);
  await screenshot(page, 'provenance-activity', { fullPage: true });
  await page.close();
});

test('on a phone the first screen shows alerts', async () => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-GB' });
  const page = await phone.newPage();
  await page.goto(url('event-audit-dashboard'));
  const first = await page.locator('tr.row').first().boundingBox();
  assert.ok(first, 'an alert row is rendered');
  assert.ok(first.y + Math.min(first.height, 80) <= 844, `the first alert starts on the first screen (top at ${first.y}px)`);
  await screenshot(page, 'provenance-phone', { fullPage: false });
  await phone.close();
});
