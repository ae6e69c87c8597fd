import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Alert } from '@auditflow/common';
import { makeAlert, pgliteDatabase, postgresDatabase, type TestDatabase, waitFor } from './helpers.ts';
import { HttpReceiver, startAlertmanager, verifyWebhookSignature } from './receivers.ts';
import { type Harness, startHarness, TOKEN } from './service-harness.ts';

const SECRET = 'whsec-test-0123456789';
process.env.AF_TEST_WEBHOOK_SECRET = SECRET;

interface Delivery {
  id: string;
  output: string;
  type: string;
  status: string;
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
}

interface WebhookBody {
  id: string;
  status: string;
  group_key: string;
  alerts: { delivery_id: string; status: string; alert: { alert_id: string; count: number; status: string } }[];
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'af-outputs-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function outputsFile(yaml: string): Promise<string> {
  const path = join(dir, `outputs-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, yaml);
  return path;
}

function webhookYaml(url: string, route: string, delivery = ''): string {
  return `outputs:
  - name: hook
    type: webhook
    url: ${url}/hook
    secret: { env: AF_TEST_WEBHOOK_SECRET }
    timeout: 2s
route:
  receiver: hook
${route}
${delivery}`;
}

async function start(db: TestDatabase, file: string, env: Record<string, string> = {}): Promise<Harness> {
  // Silences need the admin scope; the harness's plain token has read and ack only.
  const tokens = join(dir, 'tokens');
  await writeFile(tokens, `${TOKEN} scopes=read,ack,admin name=sre\n`);
  return startHarness(db, {
    env: { OUTPUTS_FILE: file, OUTBOX_POLL_MS: '50', OUTBOX_LEASE_MS: '30000', API_TOKENS: '', API_TOKENS_FILE: tokens, ...env },
  });
}

async function publish(harness: Harness, alert: Alert): Promise<void> {
  await harness.broker.publish(harness.queue, { body: alert, messageId: alert.alert_id, correlationId: alert.correlation_id });
}

async function deliveries(harness: Harness, alertId: string): Promise<Delivery[]> {
  const response = await harness.handle.app.inject({ url: `/alerts/${alertId}/deliveries` });
  // Not consumed yet.
  if (response.statusCode === 404) return [];
  assert.equal(response.statusCode, 200, response.body);
  return (response.json() as { deliveries: Delivery[] }).deliveries;
}

async function waitForStatus(harness: Harness, alertId: string, status: string, timeoutMs = 15_000): Promise<Delivery[]> {
  return waitFor(
    async () => {
      const list = await deliveries(harness, alertId);
      return list.length > 0 && list.every((d) => d.status === status) ? list : undefined;
    },
    timeoutMs,
    `deliveries of ${alertId} ${status}`,
  );
}

async function metric(harness: Harness, outcome: string): Promise<number> {
  const text = await harness.handle.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith('notification_deliveries_total{') && l.includes(`outcome="${outcome}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

for (const kind of ['postgres', 'pglite'] as const) {
  describe(`delivery through the outbox (${kind})`, () => {
    let db: TestDatabase;
    before(async () => {
      db = kind === 'postgres' ? await postgresDatabase() : await pgliteDatabase();
    });
    after(async () => {
      await db.drop();
    });

    test('webhook: one signed message per group; a growing count does not re-notify before repeat_interval; resolving notifies', async () => {
      const receiver = await HttpReceiver.start();
      const file = await outputsFile(webhookYaml(receiver.url, '  group_by: [rule_id, host]\n  group_wait: 300ms\n  repeat_interval: 1h'));
      const harness = await start(db, file);
      try {
        const host = `web-${Math.random().toString(36).slice(2, 8)}`;
        const first = makeAlert({ impacted_resource: { resource_type: 'SERVER', resource_id: host, server_hostname: host } });
        const second = makeAlert({ impacted_resource: { resource_type: 'SERVER', resource_id: host, server_hostname: host } });
        await publish(harness, first);
        await publish(harness, second);
        await waitForStatus(harness, first.alert_id, 'sent');
        await waitForStatus(harness, second.alert_id, 'sent');
        assert.equal(receiver.requests.length, 1, 'both alerts of the group go out in one message');
        const request = receiver.requests[0]!;
        assert.ok(verifyWebhookSignature(SECRET, request), 'the signature verifies with the documented recipe');
        assert.equal(verifyWebhookSignature('wrong-secret', request), false);
        assert.equal(verifyWebhookSignature(SECRET, { ...request, body: request.body.replace('"firing"', '"resolved"') }), false);
        const body = request.json as WebhookBody;
        assert.equal(body.status, 'firing');
        assert.deepEqual(body.alerts.map((a) => a.alert.alert_id).sort(), [first.alert_id, second.alert_id].sort());
        assert.equal(request.headers['x-auditflow-delivery'], body.id);

        // The alert grows: stored, but not notified again within repeat_interval.
        await publish(harness, { ...first, count: 7, last_seen: new Date().toISOString() });
        await waitFor(async () => {
          const row = (await harness.handle.app.inject({ url: `/alerts/${first.alert_id}` })).json() as { count: number };
          return row.count === 7;
        });
        await new Promise((resolve) => setTimeout(resolve, 600));
        assert.equal(receiver.requests.length, 1);
        assert.equal((await deliveries(harness, first.alert_id)).length, 1);

        const patch = await harness.handle.app.inject({
          method: 'PATCH',
          url: `/alerts/${first.alert_id}`,
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          payload: { status: 'resolved', actor: 'sre' },
        });
        assert.equal(patch.statusCode, 200, patch.body);
        await waitFor(() => receiver.requests.length === 2 || undefined, 10_000, 'the resolution');
        const resolved = receiver.requests[1]!.json as WebhookBody;
        assert.equal(resolved.status, 'resolved');
        assert.deepEqual(resolved.alerts.map((a) => [a.alert.alert_id, a.alert.count]), [[first.alert_id, 7]]);
        assert.ok(verifyWebhookSignature(SECRET, receiver.requests[1]!));
        // Counted when the row is settled, just after the receiver answered.
        await waitFor(async () => (await metric(harness, 'sent')) === 3 || undefined, 5000, 'three sent deliveries counted');
      } finally {
        await harness.stop();
        await receiver.down();
      }
    });

    test('routing: a child route takes its matches, continue lets the default route have them too', async () => {
      const critical = await HttpReceiver.start();
      const rest = await HttpReceiver.start();
      const file = await outputsFile(`outputs:
  - name: pager
    type: webhook
    url: ${critical.url}
    secret: { env: AF_TEST_WEBHOOK_SECRET }
  - name: chat
    type: webhook
    url: ${rest.url}
    secret: { env: AF_TEST_WEBHOOK_SECRET }
route:
  receiver: chat
  group_by: ['...']
  group_wait: 0s
  routes:
    - matchers: ['severity=~CRITICAL|HIGH', 'user!=svc-backup']
      receiver: pager
    - matchers: [rule_id=ANLY-SEC-009]
      receiver: pager
      continue: true
`);
      const harness = await start(db, file);
      try {
        const paged = makeAlert({ severity: 'CRITICAL' });
        const lowly = makeAlert({ severity: 'LOW' });
        const backup = makeAlert({ severity: 'HIGH', triggered_by: { actor_type: 'SERVICE', actor_id: 'svc-backup' } });
        const both = makeAlert({ severity: 'LOW', analysis_rule: { rule_id: 'ANLY-SEC-009', rule_name: 'x' } });
        for (const alert of [paged, lowly, backup, both]) await publish(harness, alert);
        for (const alert of [paged, lowly, backup, both]) await waitForStatus(harness, alert.alert_id, 'sent');
        const ids = (receiver: HttpReceiver) =>
          receiver.requests.flatMap((r) => (r.json as WebhookBody).alerts.map((a) => a.alert.alert_id)).sort();
        assert.deepEqual(ids(critical), [paged.alert_id, both.alert_id].sort());
        assert.deepEqual(ids(rest), [lowly.alert_id, backup.alert_id].sort());
        assert.deepEqual((await deliveries(harness, both.alert_id)).map((d) => d.output).sort(), ['pager']);
      } finally {
        await harness.stop();
        await critical.down();
        await rest.down();
      }
    });

    test('a silence created between the alert and its delivery: stored and shown as silenced, not sent', async () => {
      const receiver = await HttpReceiver.start();
      const file = await outputsFile(webhookYaml(receiver.url, '  group_by: [alert_id]\n  group_wait: 1500ms'));
      const harness = await start(db, file);
      try {
        const host = `db-${Math.random().toString(36).slice(2, 8)}`;
        const alert = makeAlert({ impacted_resource: { resource_type: 'SERVER', resource_id: host, server_hostname: host } });
        const other = makeAlert();
        await publish(harness, alert);
        await publish(harness, other);
        await waitFor(async () => (await deliveries(harness, alert.alert_id)).length === 1 || undefined);
        const created = await harness.handle.app.inject({
          method: 'POST',
          url: '/silences',
          headers: { authorization: `Bearer ${TOKEN}` },
          payload: {
            matchers: [{ name: 'host', value: host, isRegex: false, isEqual: true }],
            comment: 'maintenance',
            created_by: 'sre@example.com',
            ends_at: new Date(Date.now() + 3_600_000).toISOString(),
          },
        });
        assert.equal(created.statusCode, 201, created.body);
        const silence = created.json() as { id: string; status: string; created_by: string };
        assert.equal(silence.status, 'active');
        assert.equal(silence.created_by, 'sre@example.com');

        const [silenced] = await waitForStatus(harness, alert.alert_id, 'silenced');
        assert.equal(silenced!.attempts, 0);
        await waitForStatus(harness, other.alert_id, 'sent');
        const sentIds = receiver.requests.flatMap((r) => (r.json as WebhookBody).alerts.map((a) => a.alert.alert_id));
        assert.deepEqual(sentIds, [other.alert_id]);

        const shown = (await harness.handle.app.inject({ url: `/alerts/${alert.alert_id}` })).json() as {
          silenced: boolean;
          silenced_by: string[];
        };
        assert.deepEqual([shown.silenced, shown.silenced_by], [true, [silence.id]]);
        const list = (await harness.handle.app.inject({ url: '/alerts?limit=100' })).json() as {
          alert_id: string;
          silenced: boolean;
        }[];
        assert.equal(list.find((row) => row.alert_id === other.alert_id)?.silenced, false);
        assert.equal(list.find((row) => row.alert_id === alert.alert_id)?.silenced, true);
        assert.equal(await metric(harness, 'silenced'), 1);

        const expired = await harness.handle.app.inject({
          method: 'DELETE',
          url: `/silences/${silence.id}`,
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        assert.equal(expired.statusCode, 200);
        assert.equal((expired.json() as { status: string }).status, 'expired');
        const after = (await harness.handle.app.inject({ url: `/alerts/${alert.alert_id}` })).json() as { silenced: boolean };
        assert.equal(after.silenced, false);
        const listed = (await harness.handle.app.inject({ url: '/silences?state=expired' })).json() as { silences: { id: string }[] };
        assert.ok(listed.silences.some((s) => s.id === silence.id));
      } finally {
        await harness.stop();
        await receiver.down();
      }
    });

    test('receiver down, then up: retried with backoff and delivered once', async () => {
      const receiver = await HttpReceiver.start();
      await receiver.down();
      const file = await outputsFile(
        webhookYaml(receiver.url, '  group_by: [alert_id]\n  group_wait: 0s', 'delivery:\n  backoff_initial: 100ms\n  backoff_max: 400ms\n  max_attempts: 50'),
      );
      const harness = await start(db, file);
      try {
        const alert = makeAlert();
        await publish(harness, alert);
        const retrying = await waitFor(async () => {
          const [d] = await deliveries(harness, alert.alert_id);
          return d && d.attempts >= 2 && d.status === 'pending' ? d : undefined;
        });
        assert.match(retrying.last_error ?? '', /ECONNREFUSED/);
        await receiver.up();
        const [sent] = await waitForStatus(harness, alert.alert_id, 'sent');
        assert.equal(sent!.last_error, null);
        await new Promise((resolve) => setTimeout(resolve, 300));
        assert.equal(receiver.requests.length, 1);
        assert.ok((await metric(harness, 'retried')) >= 1);
      } finally {
        await harness.stop();
        await receiver.down();
      }
    });

    test('a delivery that keeps failing is marked failed with its last error, never lost', async () => {
      const receiver = await HttpReceiver.start();
      receiver.respond = () => 503;
      const file = await outputsFile(
        webhookYaml(receiver.url, '  group_by: [alert_id]\n  group_wait: 0s', 'delivery:\n  backoff_initial: 50ms\n  backoff_max: 100ms\n  max_attempts: 3'),
      );
      const harness = await start(db, file);
      try {
        const alert = makeAlert();
        await publish(harness, alert);
        const [failed] = await waitForStatus(harness, alert.alert_id, 'failed');
        assert.equal(failed!.attempts, 3);
        assert.match(failed!.last_error ?? '', /HTTP 503/);
        assert.equal(receiver.requests.length, 3);
        assert.equal(await metric(harness, 'failed'), 1);
        assert.equal(await metric(harness, 'retried'), 2);

        // A 4xx other than 408/429 will never succeed: failed at the first attempt.
        receiver.respond = () => 410;
        const gone = makeAlert();
        await publish(harness, gone);
        const [once] = await waitForStatus(harness, gone.alert_id, 'failed');
        assert.equal(once!.attempts, 1);
      } finally {
        await harness.stop();
        await receiver.down();
      }
    });

    test('Alertmanager receives the alerts, groups them, and ends them when resolved (its own API)', async () => {
      const am = await startAlertmanager(['rule_id']);
      const file = await outputsFile(`outputs:
  - name: am
    type: alertmanager
    url: ${am.url}
    link_url: http://dashboard.example/alerts
route:
  receiver: am
  group_by: [rule_id]
  group_wait: 0s
`);
      const harness = await start(db, file).catch(async (error: unknown) => {
        await am.stop();
        throw error;
      });
      try {
        const rule = `ANLY-AM-${Math.random().toString(36).slice(2, 8)}`;
        const a = makeAlert({ analysis_rule: { rule_id: rule, rule_name: 'AM test' }, severity: 'HIGH' });
        const b = makeAlert({
          analysis_rule: { rule_id: rule, rule_name: 'AM test' },
          triggered_by: { actor_type: 'USER', actor_id: 'mallory', client_ip: '10.0.0.9' },
        });
        await publish(harness, a);
        await publish(harness, b);
        await waitForStatus(harness, a.alert_id, 'sent');
        await waitForStatus(harness, b.alert_id, 'sent');
        const alerts = await waitFor(async () => {
          const list = (await am.alerts()).filter((x) => x.labels.rule_id === rule);
          return list.length === 2 ? list : undefined;
        });
        const shownA = alerts.find((x) => x.labels.alert_id === a.alert_id)!;
        assert.equal(shownA.labels.alertname, a.alert_name);
        assert.equal(shownA.labels.severity, 'HIGH');
        assert.equal(shownA.labels.host, 'prod-web-01');
        assert.equal(shownA.annotations.description, a.description);
        assert.equal(shownA.status.state, 'active');
        const groups = await waitFor(async () => {
          const list = (await am.groups()).filter((g) => g.labels.rule_id === rule);
          return list.length === 1 && list[0]!.alerts.length === 2 ? list : undefined;
        });
        assert.deepEqual(groups[0]!.labels, { rule_id: rule });

        const patch = await harness.handle.app.inject({
          method: 'PATCH',
          url: `/alerts/${a.alert_id}`,
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          payload: { status: 'resolved', actor: 'sre' },
        });
        assert.equal(patch.statusCode, 200);
        await waitFor(
          async () => {
            const list = (await am.alerts()).filter((x) => x.labels.rule_id === rule);
            return list.length === 1 && list[0]!.labels.alert_id === b.alert_id ? true : undefined;
          },
          15_000,
          'Alertmanager to end the resolved alert',
        );
      } finally {
        await harness.stop();
        await am.stop();
      }
    });
  });
}
