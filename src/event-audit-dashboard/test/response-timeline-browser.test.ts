// The alert page's one History timeline in a real browser: a crowdsec output's decision (dry-run,
// so no Local API is needed), a status change made on the page and the Undo made on the page,
// each with who or which rule made it, in time order; the real notification-service (PGlite)
// stores it all and the real dashboard shows it.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger, waitFor } from '../../common/test/support.ts';
import { loadDashboardConfig, startDashboard } from '../src/index.ts';
import { launchBrowser, screenshot, watchErrors } from './support/browser.ts';
import { contractAlert, startRealNotification } from './support/real-notification.ts';

const TOKEN = 'response-timeline-token-0123456789';

test('the alert page shows the decision, a status change and the undo in one timeline with the rule and the person', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'af-timeline-'));
  const outputs = join(dir, 'outputs.yaml');
  process.env.AF_TEST_TIMELINE_WEBHOOK = 'x'.repeat(32);
  await writeFile(
    outputs,
    `outputs:
  - name: chat
    type: webhook
    url: http://127.0.0.1:9/never
    secret: { env: AF_TEST_TIMELINE_WEBHOOK }
  - name: crowdsec
    type: crowdsec
    duration: 4h
route:
  receiver: chat
  routes:
    - receiver: crowdsec
      matchers: ["rule_id=ANLY-SEC-001"]
      group_wait: 0s
`,
  );
  // Undo needs the admin scope, like the other response actions.
  await writeFile(join(dir, 'tokens'), `${TOKEN} scopes=read,ack,admin name=event-audit-dashboard\n`);
  const notification = await startRealNotification({
    token: '',
    env: { API_TOKENS: '', API_TOKENS_FILE: join(dir, 'tokens'), OUTPUTS_FILE: outputs, OUTBOX_POLL_MS: '50' },
  });
  const dashboard = await startDashboard({
    config: { ...loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: notification.url, NOTIFICATION_API_TOKEN: TOKEN }), host: '127.0.0.1' },
    logger: silentLogger,
  });
  const browser = await launchBrowser();
  try {
    const alert = contractAlert({ host: 'pi3.jdevlab.local' });
    const attacker = '203.0.113.77';
    (alert['triggered_by'] as Record<string, unknown>)['client_ip'] = attacker;
    ((alert['raw_event_data'] as Record<string, unknown>)['details'] as Record<string, unknown>)['ip_address'] = attacker;
    await notification.publish(alert);
    const id = String(alert['alert_id']);
    await waitFor(
      async () => {
        const body = (await (await fetch(`${notification.url}/alerts/${id}/response`)).json()) as { decisions: { state: string }[] };
        return body.decisions[0]?.state === 'recorded' ? true : undefined;
      },
      20_000,
      'the dry-run decision',
    );

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${dashboard.urls['http']}/alert/${id}`);
    const history = page.locator('[data-status-panel] ol.history');
    await history.locator('[data-response-action="recorded"]').waitFor();
    // A status change made on the page joins the same timeline after the decision (live refresh).
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await history.locator('[data-history-kind="status"]').waitFor();
    assert.deepEqual(await history.locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-response-action') ?? li.getAttribute('data-history-kind'))), [
      'recorded',
      'status',
    ]);
    assert.equal(await history.locator('[data-response-action="recorded"] .muted').textContent(), 'by rule ANLY-SEC-001 via output crowdsec');

    // Undo (Withdraw, since a dry-run decision was never pushed) from the Response card.
    await page.locator('[data-response] [data-undo-decision]').click();
    await page
      .locator('[data-response] [data-decision-state="undone"]')
      .waitFor({ timeout: 10_000 })
      .catch(async (error: Error) => {
        throw new Error(`${error.message}; the card says: ${await page.locator('[data-response-message]').textContent()}; ${errors.join('; ')}`);
      });
    const undone = history.locator('[data-response-action="undone"]');
    await undone.waitFor();
    assert.match((await undone.textContent()) ?? '', /Ban undone by event-audit-dashboard user at 127\.0\.0\.1/);
    assert.deepEqual(await history.locator('li').evaluateAll((items) => items.map((li) => li.getAttribute('data-response-action') ?? li.getAttribute('data-history-kind'))), [
      'recorded',
      'status',
      'undone',
    ]);
    assert.equal(await page.locator('[data-response-history]').count(), 0, 'the Response card no longer keeps a second history');
    // From the top, so the sticky header does not cover the timeline in the full-page shot.
    await page.evaluate(() => window.scrollTo(0, 0));
    const shot = await screenshot(page, 'response-timeline');
    assert.ok(shot);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await dashboard.stop();
    await notification.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
