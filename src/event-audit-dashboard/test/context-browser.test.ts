// The alert page's Context section (docs/enrichment.md) in a real browser, on an alert the real
// analysis raised and enriched from the packaged databases and a hosts file, stored by the real
// notification-service (PGlite), shown by the real dashboard.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { MemoryBroker } from '@auditflow/common';
import { createPgliteSqlClient, loadNotificationConfig, openAlertStore, startNotificationService } from '@auditflow/notification-service';
import { loadAnalysisConfig, MemoryWindowStore, startAnalysis } from '../../audit-log-analysis/src/index.ts';
import { silentLogger, uniqueName, waitFor } from '../../common/test/support.ts';
import { loadDashboardConfig, startDashboard } from '../src/index.ts';
import { launchBrowser, screenshot, watchErrors } from './support/browser.ts';

const TOKEN = 'context-browser-token-0123456789';

test('the alert page shows country, AS, scope and host owner/role of an enriched alert, and nothing for one without', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'af-context-'));
  const broker = new MemoryBroker({ logger: silentLogger });
  const events = uniqueName('events');
  const alerts = uniqueName('alerts');
  const hostsFile = join(dir, 'hosts.yaml');
  await writeFile(hostsFile, 'hosts:\n  pi3.jdevlab.local:\n    owner: jdev\n    role: k3s-server\n    groups: [k3s_cluster, k3s_server]\n    addresses: [192.168.1.161]\n');
  const notification = await startNotificationService({
    config: loadNotificationConfig({ API_PORT: '0', API_HOST: '127.0.0.1', RABBITMQ_ALERT_QUEUE: alerts, API_TOKENS: TOKEN, LOG_LEVEL: 'silent' }),
    logger: silentLogger,
    broker,
    store: await openAlertStore(await createPgliteSqlClient(join(dir, 'pg')), silentLogger),
  });
  const analysis = await startAnalysis({
    config: loadAnalysisConfig({ RABBITMQ_QUEUE: events, RABBITMQ_ALERT_QUEUE: alerts, APP_PORT: '0', PROMETHEUS_PORT: '0', HOSTS_FILE: hostsFile }),
    logger: silentLogger,
    broker,
    windowStore: new MemoryWindowStore(),
    host: '127.0.0.1',
  });
  const dashboard = await startDashboard({
    config: { ...loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: notification.urls['http']!, NOTIFICATION_API_TOKEN: TOKEN }), host: '127.0.0.1' },
    logger: silentLogger,
  });
  const browser = await launchBrowser();
  try {
    // SSH brute force (ANLY-SEC-001 of the default rules) on pi3 from Cloudflare's 1.1.1.1, and one from the LAN on another host.
    const now = Date.now();
    const login = (user: string, host: string, ip: string, at: number) => ({
      event_id: randomUUID(),
      timestamp: new Date(at).toISOString(),
      source_service: 'sshd',
      server_hostname: host,
      event_type: 'user_login',
      severity: 'WARNING',
      user_id: user,
      action_result: 'FAILURE',
      details: { reason: 'Incorrect password', ip_address: ip, protocol: 'ssh' },
    });
    for (let i = 0; i < 3; i++) {
      await broker.publish(events, { body: login('root', 'pi3', '1.1.1.1', now - 3000 + i * 1000) });
      await broker.publish(events, { body: login('pi', 'nas', '192.168.1.50', now - 3000 + i * 1000) });
    }
    const api = notification.urls['http']!;
    const list = await waitFor(
      async () => {
        const rows = (await (await fetch(`${api}/alerts?rule_id=ANLY-SEC-001`)).json()) as { alert_id: string; server_hostname: string }[];
        return rows.length >= 2 ? rows : undefined;
      },
      15_000,
      'both brute-force alerts stored',
    );
    const enriched = list.find((a) => a.server_hostname === 'pi3')!;
    const lan = list.find((a) => a.server_hostname === 'nas')!;

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB' });
    const page = await context.newPage();
    const errors = watchErrors(page);
    assert.equal((await page.goto(`${dashboard.urls['http']}/alert/${enriched.alert_id}`))?.status(), 200);
    const section = page.locator('[data-context-section]');
    await section.waitFor();
    assert.equal(await section.locator('h2').textContent(), 'Context');
    assert.equal(await section.locator('[data-context="country"]').textContent(), 'Australia');
    assert.equal(await section.locator('[data-context="asn"]').textContent(), 'AS13335');
    assert.match((await section.textContent()) ?? '', /Cloudflare, Inc\./);
    assert.equal(await section.locator('[data-context="scope"]').textContent(), 'public (routed on the Internet)');
    assert.equal(await section.locator('[data-context="owner"]').textContent(), 'jdev');
    assert.equal(await section.locator('[data-context="role"]').textContent(), 'k3s-server');
    assert.equal(await section.locator('a[href="https://db-ip.com"]').textContent(), 'IP Geolocation by DB-IP', 'the attribution the ASN data licence asks for');
    await screenshot(page, 'alert-context');

    assert.equal((await page.goto(`${dashboard.urls['http']}/alert/${lan.alert_id}`))?.status(), 200);
    await section.waitFor();
    assert.equal(await section.locator('[data-context="scope"]').textContent(), 'private network (RFC 1918, fc00::/7)');
    assert.equal(await section.locator('[data-context="country"]').count(), 0, 'a LAN address has no country');
    assert.equal(await section.locator('[data-context="owner"]').count(), 0, 'nas is not in the hosts file');
    assert.equal(await section.locator('a[href="https://db-ip.com"]').count(), 0);
    await screenshot(page, 'alert-context-lan');
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await browser.close();
    await dashboard.stop();
    await analysis.stop();
    await notification.stop();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
});
