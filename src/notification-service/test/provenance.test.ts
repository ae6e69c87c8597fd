import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Alert } from '@auditflow/common';
import { alertLabels } from '../src/delivery/alert-labels.ts';
import { makeAlert, pgliteDatabase, postgresDatabase, type TestDatabase, waitFor } from './helpers.ts';
import { HttpReceiver } from './receivers.ts';
import { type Harness, startHarness, TOKEN } from './service-harness.ts';

process.env.AF_TEST_PROVENANCE_SECRET = 'whsec-provenance-0123456789';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'af-provenance-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function start(db: TestDatabase, outputs: string | undefined): Promise<Harness> {
  const tokens = join(dir, `tokens-${Math.random().toString(36).slice(2)}`);
  await writeFile(tokens, `${TOKEN} scopes=read,ack,admin name=sre\n`);
  const env: Record<string, string> = { OUTBOX_POLL_MS: '50', API_TOKENS: '', API_TOKENS_FILE: tokens };
  if (outputs !== undefined) {
    const file = join(dir, `outputs-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, outputs);
    env.OUTPUTS_FILE = file;
  }
  return startHarness(db, { env });
}

const publish = (harness: Harness, alert: Alert) =>
  harness.broker.publish(harness.queue, { body: alert, messageId: alert.alert_id, correlationId: alert.correlation_id });

// biome-ignore lint/suspicious/noExplicitAny: response bodies of several shapes, asserted field by field
type Body = any;

async function get(harness: Harness, url: string): Promise<{ status: number; body: Body }> {
  const response = await harness.handle.app.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: response.statusCode, body: response.json() };
}

const waitStored = (harness: Harness, id: string) =>
  waitFor(async () => ((await get(harness, `/alerts/${id}`)).status === 200 ? true : undefined), 10_000, `alert ${id} stored`);

function event(at: string, overrides: Record<string, unknown> = {}) {
  return {
    event_id: crypto.randomUUID(),
    timestamp: at,
    event_type: 'user_login',
    user_id: 'mallory',
    server_hostname: 'pi-node-1',
    action_result: 'FAILURE',
    severity: 'HIGH',
    ip_address: '203.0.113.7',
    origin: 'syslog',
    ...overrides,
  };
}

/** An alert as analysis sends it from a real syslog record, with origin and evidence. */
function realAlert(host: string): Alert {
  const trigger = {
    event_id: crypto.randomUUID(),
    timestamp: '2026-03-02T10:00:09.000Z',
    source_service: 'audit-ingest',
    server_hostname: host,
    event_type: 'user_login',
    severity: 'HIGH',
    user_id: 'mallory',
    action_result: 'FAILURE',
    details: { ip_address: '203.0.113.7' },
    source: { kind: 'syslog', host, transport: 'tcp', peer: '10.0.0.9:40112', program: 'sshd', original: '<38>... sshd[1]: Failed password' },
  };
  return makeAlert({
    impacted_resource: { resource_type: 'SERVER', resource_id: host, server_hostname: host },
    triggered_by: { actor_type: 'USER', actor_id: 'mallory', client_ip: '203.0.113.7' },
    source_service_name: 'audit-ingest',
    raw_event_data: trigger,
    correlation_id: trigger.event_id,
    count: 7,
    first_seen: '2026-03-02T10:00:00.000Z',
    last_seen: '2026-03-02T10:00:09.000Z',
    origin: { kind: 'syslog', sender: '10.0.0.9:40112', program: 'sshd' },
    evidence: {
      total: 7,
      first: [0, 1, 2].map((i) => event(`2026-03-02T10:00:0${i}.000Z`, { server_hostname: host })),
      last: [{ ...event('2026-03-02T10:00:08.000Z', { server_hostname: host }) }],
      unresolved: 0,
    },
  });
}

function syntheticAlert(host: string): Alert {
  return makeAlert({
    impacted_resource: { resource_type: 'SERVER', resource_id: host, server_hostname: host },
    raw_event_data: {
      event_id: crypto.randomUUID(),
      event_type: 'user_login',
      source: { kind: 'synthetic', host: 'audit-event-generator', program: 'scenario' },
    },
    origin: { kind: 'synthetic', sender: 'audit-event-generator', program: 'scenario' },
  });
}

for (const kind of ['postgres', 'pglite'] as const) {
  describe(`provenance and evidence in the store and API (${kind})`, () => {
    let db: TestDatabase;
    before(async () => {
      db = kind === 'postgres' ? await postgresDatabase() : await pgliteDatabase();
    });
    after(async () => {
      await db.drop();
    });

    test('origin is stored, filtered (origin=, source_service=), searched (q=sshd, q=synthetic) and a label routes match on', async () => {
      const harness = await start(db, undefined);
      try {
        const host = `pi-${Math.random().toString(36).slice(2, 8)}`;
        const real = realAlert(host);
        const demo = syntheticAlert(host);
        // An alert of the original analysis: no origin field, the origin comes from its raw event.
        const legacy = makeAlert({
          impacted_resource: { resource_type: 'SERVER', resource_id: host, server_hostname: host },
          raw_event_data: { event_id: crypto.randomUUID(), source: { kind: 'journald', host } },
        });
        const unknown = makeAlert({ impacted_resource: { resource_type: 'SERVER', resource_id: host, server_hostname: host } });
        for (const alert of [real, demo, legacy, unknown]) await publish(harness, alert);
        for (const alert of [real, demo, legacy, unknown]) await waitStored(harness, alert.alert_id);

        const one = await get(harness, `/alerts/${real.alert_id}`);
        assert.equal(one.body.origin, 'syslog');
        assert.equal(one.body.origin_sender, '10.0.0.9:40112');
        assert.equal(one.body.has_evidence, true);

        const ids = async (query: string) =>
          ((await get(harness, `/alerts?host=${host}&${query}`)).body as { alert_id: string }[]).map((a) => a.alert_id).sort();
        assert.deepEqual(await ids('origin=syslog'), [real.alert_id]);
        assert.deepEqual(await ids('origin=synthetic'), [demo.alert_id]);
        assert.deepEqual(await ids('origin=journald'), [legacy.alert_id], 'the origin of an alert without one comes from its raw event');
        assert.deepEqual(await ids('origin=none'), [unknown.alert_id]);
        assert.deepEqual(await ids('origin=syslog,journald'), [real.alert_id, legacy.alert_id].sort());
        assert.deepEqual(await ids('q=sshd'), [real.alert_id], 'q matches the program that wrote the record');
        assert.deepEqual(await ids('q=synthetic'), [demo.alert_id]);
        assert.deepEqual(await ids('source_service=audit-ingest'), [real.alert_id]);
        assert.equal(alertLabels(one.body).origin, 'syslog', 'routes and silences match on origin');
        const bad = await get(harness, '/alerts?origin=,');
        assert.equal(bad.status, 400);
      } finally {
        await harness.stop();
      }
    });

    test('evidence: GET /alerts/{id}/evidence gives the events oldest first; without evidence the triggering event; GET /activity', async () => {
      const harness = await start(db, undefined);
      try {
        const host = `pi-${Math.random().toString(36).slice(2, 8)}`;
        const real = realAlert(host);
        const legacy = makeAlert({
          impacted_resource: { resource_type: 'SERVER', resource_id: `${host}-b`, server_hostname: `${host}-b` },
          raw_event_data: { event_id: crypto.randomUUID(), timestamp: '2026-03-02T10:00:00Z', event_type: 'file_modified', user_id: 'x' },
        });
        await publish(harness, real);
        await publish(harness, legacy);
        await waitStored(harness, real.alert_id);
        await waitStored(harness, legacy.alert_id);

        const evidence = await get(harness, `/alerts/${real.alert_id}/evidence`);
        assert.equal(evidence.status, 200);
        assert.equal(evidence.body.total, 7);
        assert.equal(evidence.body.complete, true);
        assert.equal(evidence.body.origin, 'syslog');
        const times = (evidence.body.events as { timestamp: string }[]).map((e) => e.timestamp);
        assert.deepEqual(times, [...times].sort(), 'oldest first');
        assert.equal(times.length, 5, 'first three, last one and the triggering event');
        assert.equal(evidence.body.omitted, 2);
        assert.equal(evidence.body.events.at(-1).event_id, (real.raw_event_data as { event_id: string }).event_id);

        const bare = await get(harness, `/alerts/${legacy.alert_id}/evidence`);
        assert.equal(bare.body.complete, false);
        assert.equal(bare.body.events.length, 1);
        assert.equal((await get(harness, `/alerts/${crypto.randomUUID()}/evidence`)).status, 404);

        const activity = await get(harness, `/activity?host=${host}&since=2026-03-01T00:00:00Z&until=2026-03-03T00:00:00Z`);
        assert.equal(activity.status, 200, JSON.stringify(activity.body));
        assert.deepEqual(
          activity.body.alerts.map((a: { alert_id: string }) => a.alert_id),
          [real.alert_id],
        );
        assert.equal(activity.body.events.length, 5);
        const byAddress = await get(harness, '/activity?address=203.0.113.7&since=2026-03-01T00:00:00Z&until=2026-03-03T00:00:00Z');
        assert.ok(byAddress.body.alerts.some((a: { alert_id: string }) => a.alert_id === real.alert_id));
        const outside = await get(harness, `/activity?host=${host}&since=2026-03-05T00:00:00Z&until=2026-03-06T00:00:00Z`);
        assert.equal(outside.body.alerts.length, 0, 'the time range bounds the view');
        assert.equal((await get(harness, '/activity')).status, 400, 'a host, user or address is required');
        assert.equal((await get(harness, '/activity?address=not-an-ip')).status, 400);
      } finally {
        await harness.stop();
      }
    });

    test('outputs: a synthetic alert is not delivered, a real one is; a route with synthetic: true asks for the demo stream', async () => {
      const receiver = await HttpReceiver.start();
      const yaml = `outputs:
  - name: phone
    type: webhook
    url: ${receiver.url}/phone
    secret: { env: AF_TEST_PROVENANCE_SECRET }
  - name: demo
    type: webhook
    url: ${receiver.url}/demo
    secret: { env: AF_TEST_PROVENANCE_SECRET }
route:
  receiver: phone
  group_by: ['...']
  group_wait: 0s
  routes:
    - receiver: demo
      matchers: ['host=demo-host']
      synthetic: true
`;
      const harness = await start(db, yaml);
      try {
        const host = `pi-${Math.random().toString(36).slice(2, 8)}`;
        const demo = syntheticAlert(host);
        const real = realAlert(host);
        const askedFor = syntheticAlert('demo-host');
        await publish(harness, demo);
        await publish(harness, real);
        await publish(harness, askedFor);
        for (const alert of [demo, real, askedFor]) await waitStored(harness, alert.alert_id);
        await waitFor(async () => (receiver.requests.length >= 2 ? true : undefined), 15_000, 'two deliveries');
        // Give a wrongly planned synthetic delivery time to go out before asserting it did not.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const sent = receiver.requests.map((r) => ({ path: r.path, ids: (JSON.parse(r.body) as { alerts: { alert: { alert_id: string } }[] }).alerts.map((a) => a.alert.alert_id) }));
        const phone = sent.filter((s) => s.path === '/phone').flatMap((s) => s.ids);
        const demoOut = sent.filter((s) => s.path === '/demo').flatMap((s) => s.ids);
        assert.deepEqual(phone, [real.alert_id], 'the real alert reaches the phone, the synthetic one does not');
        assert.deepEqual(demoOut, [askedFor.alert_id], 'a route that asks for synthetic alerts gets them');
        const deliveries = await get(harness, `/alerts/${demo.alert_id}/deliveries`);
        assert.deepEqual(deliveries.body.deliveries, []);
      } finally {
        await harness.stop();
        await receiver.down();
      }
    });
  });
}
