// A group-key field with dots (`details.ip_address`, what 11 of the default rules group by) is a
// label like any other: a route matches it in the real notification-service, and a silence on it
// made through the dashboard's form route mutes the next alert from that address.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { silentLogger, waitFor } from '../../common/test/support.ts';
import { HttpReceiver } from '../../notification-service/test/receivers.ts';
import { buildDashboardServer, loadDashboardConfig } from '../src/index.ts';
import { contractAlert, startRealNotification } from './support/real-notification.ts';

const ADMIN_TOKEN = 'dotted-admin-token-51c2aa';
const SAME_ORIGIN = { 'content-type': 'application/json', origin: 'http://dashboard.test', host: 'dashboard.test', 'sec-fetch-site': 'same-origin' };
const SPRAYER = '198.51.100.7';

function sprayAlert(ip: string): Record<string, unknown> {
  return {
    ...contractAlert({ name: 'Password Spraying Detected', ruleId: 'ANLY-SEC-003', ruleName: 'Password Spraying Detection', severity: 'HIGH' }),
    group_key: { 'details.ip_address': ip },
  };
}

function sentIds(receiver: HttpReceiver): string[] {
  return receiver.requests.flatMap((r) => (r.json as { alerts: { alert: { alert_id: string } }[] }).alerts.map((a) => a.alert.alert_id));
}

test('a route and a silence on details.ip_address, through the real notification-service and the dashboard', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'af-dotted-'));
  const spray = await HttpReceiver.start();
  const rest = await HttpReceiver.start();
  await writeFile(join(dir, 'tokens'), `${ADMIN_TOKEN} scopes=read,ack,admin name=event-audit-dashboard\n`);
  await writeFile(join(dir, 'secret'), 'whsec-dotted-0123456789\n');
  await writeFile(
    join(dir, 'outputs.yaml'),
    `outputs:
  - { name: spray, type: webhook, url: ${spray.url}/hook, secret: { file: ${join(dir, 'secret')} }, timeout: 2s }
  - { name: rest, type: webhook, url: ${rest.url}/hook, secret: { file: ${join(dir, 'secret')} }, timeout: 2s }
route:
  receiver: rest
  group_by: ['...']
  group_wait: 100ms
  routes:
    - { matchers: ['details.ip_address=${SPRAYER}'], receiver: spray, group_by: [details.ip_address] }
`,
  );
  const notification = await startRealNotification({
    token: '',
    env: { API_TOKENS: '', API_TOKENS_FILE: join(dir, 'tokens'), OUTPUTS_FILE: join(dir, 'outputs.yaml'), OUTBOX_POLL_MS: '50' },
  });
  const server = await buildDashboardServer({
    config: loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: notification.url, NOTIFICATION_API_TOKEN: ADMIN_TOKEN }),
    logger: silentLogger,
  });
  const deliveries = async (id: unknown) => {
    const response = await server.app.inject({ url: `/api/alerts/${String(id)}/deliveries` });
    assert.equal(response.statusCode, 200, response.body);
    return (response.json() as { deliveries: { output: string; status: string }[] }).deliveries;
  };
  const settled = (id: unknown, status: string) =>
    waitFor(async () => {
      const list = await deliveries(id);
      return list.length > 0 && list.every((d) => d.status === status) ? list : undefined;
    }, 15_000, `deliveries of ${String(id)} ${status}`);
  try {
    // The route: the sprayer's alert goes to its own output, another address to the default.
    const first = sprayAlert(SPRAYER);
    const other = sprayAlert('203.0.113.9');
    await notification.publish(first);
    await notification.publish(other);
    assert.deepEqual((await settled(first['alert_id'], 'sent')).map((d) => d.output), ['spray']);
    assert.deepEqual((await settled(other['alert_id'], 'sent')).map((d) => d.output), ['rest']);
    assert.deepEqual(sentIds(spray), [first['alert_id']]);
    assert.deepEqual(sentIds(rest), [other['alert_id']]);

    // "Silence alerts like this one" offers the dotted group-key label, prefilled.
    const form = await server.app.inject({ url: `/silences/new?alert=${String(first['alert_id'])}` });
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /<option value="details\.ip_address" selected>details\.ip_address<\/option>/);
    assert.match(form.body, new RegExp(`value="${SPRAYER.replaceAll('.', '\\.')}"`));

    // The silence, as the form posts it; the notification API takes the dotted name.
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/silences',
      headers: SAME_ORIGIN,
      payload: {
        matchers: [{ name: 'details.ip_address', value: SPRAYER, isRegex: false, isEqual: true }],
        comment: 'known scanner, blocked at the edge',
        created_by: 'dana',
        ends_at: new Date(Date.now() + 3_600_000).toISOString(),
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const silence = created.json() as { id: string; status: string; matchers: { name: string }[] };
    assert.deepEqual([silence.status, silence.matchers[0]?.name], ['active', 'details.ip_address']);

    // The next alert from that address is stored and shown as silenced, not sent; others still go out.
    const muted = sprayAlert(SPRAYER);
    const loud = sprayAlert('203.0.113.10');
    await notification.publish(muted);
    await notification.publish(loud);
    await settled(muted['alert_id'], 'silenced');
    await settled(loud['alert_id'], 'sent');
    assert.deepEqual(sentIds(spray), [first['alert_id']]);
    const shown = (await (await fetch(`${notification.url}/alerts/${String(muted['alert_id'])}`)).json()) as { silenced_by: string[] };
    assert.deepEqual(shown.silenced_by, [silence.id]);

    // A name outside the grammar is refused by the dashboard with the per-field error shape.
    const bad = await server.app.inject({
      method: 'POST',
      url: '/api/silences',
      headers: SAME_ORIGIN,
      payload: { matchers: [{ name: 'details..ip', value: 'x', isRegex: false, isEqual: true }], comment: 'c', ends_at: new Date(Date.now() + 60_000).toISOString() },
    });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual((bad.json() as { errors: unknown[] }).errors, [{ path: '/matchers/0/name', message: 'must be a label name: letters, digits, _ and -, dot-separated (e.g. details.ip_address), starting with a letter or _, at most 100 characters' }]);
  } finally {
    await server.app.close();
    await notification.stop();
    await spray.down();
    await rest.down();
    await rm(dir, { recursive: true, force: true });
  }
});
