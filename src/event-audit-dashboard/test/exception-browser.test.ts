import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ServiceHandle } from '@auditflow/common';
import { parseExceptionFiles } from '@auditflow/common/exceptions-file';
import type { Browser } from 'playwright-core';
import { silentLogger } from '../../common/test/support.ts';
import { loadDashboardConfig, startDashboard } from '../src/index.ts';
import { launchBrowser, screenshot, watchErrors } from './support/browser.ts';
import { contractAlert, type RealNotification, startRealNotification } from './support/real-notification.ts';

const ADMIN_TOKEN = 'exception-browser-admin-token-51c2';

/**
 * "Never alert on this" in a real browser against the real notification-service (PGlite), with
 * EXCEPTIONS_FILE writable as in the all-in-one: preview, save, the YAML shown, the file written,
 * the exceptions page listing it, delete.
 */
describe('exceptions from the alert page, in a browser', () => {
  let dir: string;
  let notification: RealNotification;
  let dashboard: ServiceHandle;
  let browser: Browser;
  const alerts = [
    contractAlert({ host: 'pi-backup', user: 'backup', at: new Date(Date.now() - 3_600_000) }),
    contractAlert({ host: 'pi-backup', user: 'backup', at: new Date(Date.now() - 2 * 3_600_000) }),
    contractAlert({ host: 'pi-backup', user: 'backup', at: new Date(Date.now() - 10 * 86_400_000) }),
    contractAlert({ host: 'pi-backup', user: 'eve' }),
    contractAlert({ host: 'pi-web', user: 'backup' }),
  ];
  for (const alert of alerts) alert['group_key'] = { user_id: (alert['triggered_by'] as { actor_id: string }).actor_id, server_hostname: (alert['impacted_resource'] as { server_hostname: string }).server_hostname };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'af-dash-exceptions-'));
    await writeFile(join(dir, 'tokens'), `${ADMIN_TOKEN} scopes=read,ack,admin name=event-audit-dashboard\n`);
    notification = await startRealNotification({ token: '', env: { API_TOKENS: '', API_TOKENS_FILE: join(dir, 'tokens'), EXCEPTIONS_FILE: join(dir, 'exceptions.yaml') } });
    for (const alert of alerts) await notification.publish(alert);
    const config = loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: notification.url, NOTIFICATION_API_TOKEN: ADMIN_TOKEN });
    dashboard = await startDashboard({ config: { ...config, host: '127.0.0.1' }, logger: silentLogger });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await dashboard?.stop();
    await notification?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('preview counts what it would hide, save shows the YAML and writes the file, the exceptions page lists and deletes it', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    await page.goto(`${dashboard.urls['http']}/alert/${String(alerts[0]!['alert_id'])}`);
    const section = page.locator('[data-exception-section]');
    await section.getByRole('heading', { name: 'Never alert on this' }).waitFor();
    // The alert's grouping starts checked: host and user.
    assert.equal(await section.getByRole('checkbox', { name: /host = pi-backup/ }).isChecked(), true);
    assert.equal(await section.getByRole('checkbox', { name: /user = backup/ }).isChecked(), true);

    await section.getByRole('button', { name: 'Preview' }).click();
    const result = section.locator('[data-exception-result]');
    await result.getByText('Would have hidden 2 alerts in the last 7 days').waitFor();
    await section.getByLabel('Look back').selectOption('30');
    await section.getByRole('button', { name: 'Preview' }).click();
    await result.getByText('Would have hidden 3 alerts in the last 30 days').waitFor();
    const show = await result.getByRole('link').getAttribute('href');
    assert.match(show!, /^\/\?rule_id=ANLY-SEC-001&host=pi-backup&user=backup&since=/);
    // Host alone hides the other user's alert too.
    await section.getByRole('checkbox', { name: /user = backup/ }).uncheck();
    await section.getByRole('button', { name: 'Preview' }).click();
    await result.getByText('Would have hidden 4 alerts in the last 30 days').waitFor();
    await section.getByRole('checkbox', { name: /user = backup/ }).check();

    // Save: the reason is required (the browser refuses the empty form).
    await section.getByRole('button', { name: 'Save exception' }).click();
    assert.equal(await section.locator('[data-exception-saved]').isHidden(), true);
    await section.getByLabel('Reason').fill('nightly backup job logs in with a stale key');
    await section.getByLabel('Author').fill('dana');
    await section.getByRole('button', { name: 'Save exception' }).click();
    await section.getByText('Exception saved.').waitFor();
    const yaml = await section.locator('[data-exception-yaml]').textContent();
    assert.match(yaml!, /rule_id: ANLY-SEC-001\n\s+fields:\n\s+host: pi-backup\n\s+user: backup\n\s+author: dana\n\s+reason: nightly backup job logs in with a stale key/);
    assert.match(await section.locator('[data-exception-file]').textContent() ?? '', /Written to .*exceptions\.yaml/);
    await section.scrollIntoViewIfNeeded();
    const shot = await screenshot(page, 'exception-saved');

    const written = parseExceptionFiles([{ text: await readFile(join(dir, 'exceptions.yaml'), 'utf8'), fileName: 'exceptions.yaml' }], () => true, 'x');
    assert.deepEqual(written.map((e) => [e.rule_id, e.fields, e.author]), [['ANLY-SEC-001', { host: 'pi-backup', user: 'backup' }, 'dana']]);

    await page.goto(`${dashboard.urls['http']}/exceptions`);
    await page.locator('[data-exception-id]').getByText('nightly backup job logs in with a stale key').waitFor();
    assert.match((await page.locator('[data-exceptions-yaml]').textContent()) ?? '', /author: dana/);
    await screenshot(page, 'exceptions-page');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('None.').waitFor();
    assert.deepEqual(parseExceptionFiles([{ text: await readFile(join(dir, 'exceptions.yaml'), 'utf8'), fileName: 'e' }], () => true, 'x'), []);
    assert.deepEqual(errors, []);
    console.log(`screenshot: ${shot}`);
    await context.close();
  });
});
