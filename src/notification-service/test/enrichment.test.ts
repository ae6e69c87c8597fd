import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Alert, type Enrichment, isLabelName } from '@auditflow/common';
import { alertLabels } from '../src/delivery/alert-labels.ts';
import { makeAlert, postgresDatabase, type TestDatabase, waitFor } from './helpers.ts';
import { HttpReceiver } from './receivers.ts';
import { type Harness, startHarness, TOKEN } from './service-harness.ts';

process.env.AF_TEST_ENRICHMENT_SECRET = 'whsec-enrichment-0123456789';

const AU: Enrichment = {
  ip: { address: '1.1.1.1', scope: 'public', country: 'AU', asn: 13335, as_org: 'Cloudflare, Inc.' },
  host: { name: 'pi-1', owner: 'alice', role: 'k3s-server', groups: ['k3s_server', 'pis'] },
};
const US: Enrichment = { ip: { address: '8.8.8.8', scope: 'public', country: 'US', asn: 15169, as_org: 'Google LLC' }, host: { name: 'pi-2', owner: 'bob', role: 'k3s-agent' } };

/** An alert as the analysis sends it: the enrichment on the alert and on the event it carries. */
function enrichedAlert(enrichment: Enrichment): Alert {
  return makeAlert({ enrichment, raw_event_data: { event_id: crypto.randomUUID(), event_type: 'user_login', enrichment } });
}

test('the enrichment of the triggering event becomes enrichment.* labels, and a group key or metadata label cannot fake them', () => {
  const labels = alertLabels({
    alert_id: 'a',
    alert_name: 'n',
    severity: 'HIGH',
    rule_id: 'r',
    server_hostname: 'pi-1',
    actor_id: null,
    source_service_name: null,
    metadata: { labels: { 'enrichment.ip.country': 'XX', 'enrichment.ip.scope': 'private' } },
    group_key: { 'enrichment.host.owner': 'mallory' },
    raw_event_data: { enrichment: AU },
  });
  assert.equal(labels['enrichment.ip.country'], 'AU');
  assert.equal(labels['enrichment.ip.asn'], '13335');
  assert.equal(labels['enrichment.ip.as_org'], 'Cloudflare, Inc.');
  assert.equal(labels['enrichment.ip.scope'], 'public');
  assert.equal(labels['enrichment.host.owner'], 'alice');
  assert.equal(labels['enrichment.host.role'], 'k3s-server');
  assert.equal(labels['enrichment.host.groups'], 'k3s_server,pis');
  for (const name of Object.keys(labels)) assert.ok(isLabelName(name), `${name} is in the label grammar routes and silences use`);
});

describe('routes and silences on enrichment labels (PostgreSQL)', () => {
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    db = await postgresDatabase();
    dir = await mkdtemp(join(tmpdir(), 'af-enrichment-'));
  });
  after(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('a route on enrichment.ip.country and a silence on enrichment.host.role; the API row keeps the enrichment', async () => {
    const pager = await HttpReceiver.start();
    const chat = await HttpReceiver.start();
    const outputs = join(dir, 'outputs.yaml');
    await writeFile(
      outputs,
      `outputs:
  - name: pager
    type: webhook
    url: ${pager.url}
    secret: { env: AF_TEST_ENRICHMENT_SECRET }
  - name: chat
    type: webhook
    url: ${chat.url}
    secret: { env: AF_TEST_ENRICHMENT_SECRET }
route:
  receiver: chat
  group_by: ['...']
  group_wait: 0s
  routes:
    - matchers: ['enrichment.ip.country=~AU|NZ', 'enrichment.ip.scope=public']
      receiver: pager
`,
    );
    const tokens = join(dir, 'tokens');
    await writeFile(tokens, `${TOKEN} scopes=read,ack,admin name=sre\n`);
    const harness: Harness = await startHarness(db, {
      env: { OUTPUTS_FILE: outputs, OUTBOX_POLL_MS: '50', OUTBOX_LEASE_MS: '30000', API_TOKENS: '', API_TOKENS_FILE: tokens },
    });
    try {
      const silence = await harness.handle.app.inject({
        method: 'POST',
        url: '/silences',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        payload: {
          matchers: [{ name: 'enrichment.host.role', value: 'k3s-agent', isRegex: false, isEqual: true }],
          ends_at: new Date(Date.now() + 3_600_000).toISOString(),
          comment: 'agents are being reinstalled',
        },
      });
      assert.equal(silence.statusCode, 201, silence.body);

      const fromAu = enrichedAlert(AU);
      const fromUs = enrichedAlert(US);
      // A peer that sends only the top-level enrichment: stored with the event all the same.
      const { raw_event_data: _, ...peer } = enrichedAlert(AU);
      const topLevelOnly = { ...peer, raw_event_data: { event_id: crypto.randomUUID() } } as Alert;
      const plain = makeAlert();
      for (const alert of [fromAu, fromUs, topLevelOnly, plain]) {
        await harness.broker.publish(harness.queue, { body: alert, messageId: alert.alert_id, correlationId: alert.correlation_id });
      }
      const statusOf = async (alert: Alert): Promise<string | undefined> => {
        const response = await harness.handle.app.inject({ url: `/alerts/${alert.alert_id}/deliveries` });
        if (response.statusCode !== 200) return undefined;
        const list = (response.json() as { deliveries: { status: string; output: string }[] }).deliveries;
        return list.length === 0 ? undefined : list.map((d) => `${d.output}:${d.status}`).join(',');
      };
      await waitFor(async () => ((await Promise.all([fromAu, fromUs, topLevelOnly, plain].map(statusOf))).every((s) => s?.endsWith('sent') || s?.endsWith('silenced')) ? true : undefined), 15_000, 'every delivery settled');
      assert.equal(await statusOf(fromAu), 'pager:sent');
      assert.equal(await statusOf(topLevelOnly), 'pager:sent');
      assert.equal(await statusOf(fromUs), 'chat:silenced', 'US goes to chat, and the silence on the agent role holds it');
      assert.equal(await statusOf(plain), 'chat:sent', 'no enrichment: no enrichment labels, the default route');

      const row = (await harness.handle.app.inject({ url: `/alerts/${topLevelOnly.alert_id}` })).json() as { raw_event_data: { enrichment?: unknown }; silenced: boolean };
      assert.deepEqual(row.raw_event_data.enrichment, AU);
      const silenced = (await harness.handle.app.inject({ url: `/alerts/${fromUs.alert_id}` })).json() as { silenced: boolean };
      assert.equal(silenced.silenced, true);
    } finally {
      await harness.stop();
      await pager.down();
      await chat.down();
    }
  });

  test('an alert whose enrichment breaks the contract is dead-lettered (schema) like any malformed alert', async () => {
    const harness = await startHarness(db);
    try {
      const bad = makeAlert({ enrichment: { ip: { address: '1.1.1.1', scope: 'somewhere' } } });
      await harness.broker.publish(harness.queue, { body: bad, messageId: bad.alert_id, correlationId: bad.correlation_id });
      await waitFor(async () => (/notification_dead_letter_total\{reason="schema"[^}]*\} [1-9]/.test(await harness.handle.registry.metrics()) ? true : undefined), 10_000, 'the dead letter');
      const response = await harness.handle.app.inject({ url: `/alerts/${bad.alert_id}` });
      assert.equal(response.statusCode, 404);
    } finally {
      await harness.stop();
    }
  });
});
