import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Alert } from '@auditflow/common';
import { contractValidator, ResponseDecisionSchema, ResponseEventSchema } from '@auditflow/common/contracts';
import { silentLogger } from '../../common/test/support.ts';
import { buildDashboardServer, loadDashboardConfig } from '../../event-audit-dashboard/src/index.ts';
import { crowdsecMissing, type LocalApi, startLocalApi } from '../../../tests/support/crowdsec.ts';
import { makeAlert, postgresDatabase, type TestDatabase, waitFor } from './helpers.ts';
import { type Harness, startHarness, TOKEN } from './service-harness.ts';

/**
 * The crowdsec response output against a real CrowdSec Local API (Debian's crowdsec 1.4,
 * `crowdsec -no-cs`): what a bouncer sees is read from the LAPI's own GET /v1/decisions.
 */
const missing = crowdsecMissing();
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Decision {
  id: string;
  address: string | null;
  state: string;
  reason: string | null;
  mode: string;
  duration_seconds: number;
  expires_at: string | null;
  lapi_decision_ids: string[] | null;
  last_error: string | null;
  undone_by: string | null;
}
interface ResponseBody {
  decisions: Decision[];
  events: { decision_id: string; action: string; actor: string; detail: string | null }[];
}

let dir: string;
let lapi: LocalApi;
let db: TestDatabase;

/** An SSH brute force as the analysis reports it (rule ANLY-SEC-001, the attacker's address in client_ip). */
function bruteForce(address: string | null): Alert {
  return makeAlert({
    triggered_by: { actor_type: 'USER', actor_id: 'root', client_ip: address },
    raw_event_data: { event_id: crypto.randomUUID(), event_type: 'user_login', details: { ip_address: address, service: 'sshd' } },
  });
}

async function start(crowdsec: string): Promise<Harness> {
  const file = join(dir, `outputs-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(
    file,
    `outputs:
  - name: chat
    type: webhook
    url: http://127.0.0.1:9/never
    secret: { env: AF_TEST_CS_WEBHOOK }
  - name: crowdsec
    type: crowdsec
${crowdsec}
route:
  receiver: chat
  routes:
    - receiver: crowdsec
      matchers: ["rule_id=ANLY-SEC-001"]
      group_wait: 0s
delivery:
  backoff_initial: 100ms
  backoff_max: 500ms
`,
  );
  // The outputs file's { env } secrets are read from the process environment.
  process.env.AF_TEST_CS_WEBHOOK = 'x'.repeat(32);
  process.env.CROWDSEC_TEST_PASSWORD = lapi.password;
  return startHarness(db, { env: { OUTPUTS_FILE: file, OUTBOX_POLL_MS: '50', OUTBOX_LEASE_MS: '30000' } });
}

function enforceYaml(extra = ''): string {
  return `    mode: enforce
    url: ${lapi.url}
    machine_id: ${lapi.machineId}
    password: { env: CROWDSEC_TEST_PASSWORD }
    duration: 4h
    timeout: 2s
    allowlist: [192.168.0.0/16, 10.0.0.0/8, 2001:db8:aaaa::/48]
${extra}`;
}

async function publish(harness: Harness, alert: Alert): Promise<void> {
  await harness.broker.publish(harness.queue, { body: alert, messageId: alert.alert_id, correlationId: alert.correlation_id });
}

async function response(harness: Harness, alertId: string): Promise<ResponseBody | undefined> {
  const answer = await harness.handle.app.inject({ url: `/alerts/${alertId}/response` });
  if (answer.statusCode === 404) return undefined;
  assert.equal(answer.statusCode, 200, answer.body);
  return answer.json() as ResponseBody;
}

async function settled(harness: Harness, alertId: string, states: string[]): Promise<ResponseBody> {
  let last: ResponseBody | undefined;
  try {
    return await waitFor(
      async () => {
        last = await response(harness, alertId);
        return last !== undefined && last.decisions.length === 1 && states.includes(last.decisions[0]!.state) ? last : undefined;
      },
      20_000,
      `decision of ${alertId} in ${states.join('|')}`,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}\nLAPI log: ${lapi.log().slice(-2000)}`);
  }
}

async function metric(harness: Harness, outcome: string): Promise<number> {
  const text = await harness.handle.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith('notification_response_decisions_total{') && l.includes(`outcome="${outcome}"`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

function testAddress(): string {
  return `203.0.113.${10 + Math.floor(Math.random() * 240)}`;
}

function hours(goDuration: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:([\d.]+)s)?$/.exec(goDuration);
  assert.ok(match, `a Go duration: ${goDuration}`);
  return Number(match[1] ?? 0) + Number(match[2] ?? 0) / 60 + Number(match[3] ?? 0) / 3600;
}

describe('response output: decisions on a real CrowdSec Local API', { skip: missing }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'af-response-'));
    lapi = await startLocalApi();
    db = await postgresDatabase();
  });
  after(async () => {
    await db?.drop();
    await lapi?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('enforce: an SSH brute force bans its source address for the TTL, visible to a bouncer; undo removes it', async () => {
    const harness = await start(enforceYaml());
    try {
      const address = testAddress();
      const alert = bruteForce(address);
      await publish(harness, alert);
      const body = await settled(harness, alert.alert_id, ['pushed']);
      const decision = body.decisions[0]!;
      assert.equal(decision.address, address);
      assert.equal(decision.mode, 'enforce');
      assert.equal(decision.duration_seconds, 4 * 3600);
      assert.ok(decision.expires_at, 'a pushed decision has its expiry');

      const seen = await lapi.decisionsFor(address);
      assert.equal(seen.length, 1, 'the bouncer sees exactly one decision for the address');
      assert.equal(seen[0]!.type, 'ban');
      assert.equal(seen[0]!.value, address);
      assert.equal(seen[0]!.origin, 'auditflow');
      assert.equal(seen[0]!.scenario, 'auditflow/ANLY-SEC-001');
      const ttl = hours(seen[0]!.duration);
      assert.ok(ttl > 3.5 && ttl <= 4, `the ban lasts the configured 4h (LAPI says ${seen[0]!.duration})`);
      assert.deepEqual(
        body.events.map((e) => [e.action, e.actor]),
        [
          ['decided', 'rule ANLY-SEC-001 via output crowdsec'],
          ['pushed', 'output crowdsec'],
        ],
      );
      assert.equal(await metric(harness, 'pushed'), 1);

      // Bad input and unknown ids answer problem+json.
      const badId = await harness.handle.app.inject({ method: 'POST', url: `/alerts/${alert.alert_id}/response/not-a-uuid/undo`, headers: AUTH, payload: {} });
      assert.equal(badId.statusCode, 400);
      assert.match(String(badId.headers['content-type']), /application\/problem\+json/);
      assert.equal(badId.json().code, 'AF_INVALID_DECISION_ID');
      const unknown = await harness.handle.app.inject({ method: 'POST', url: `/alerts/${alert.alert_id}/response/${crypto.randomUUID()}/undo`, headers: AUTH, payload: {} });
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().code, 'AF_DECISION_NOT_FOUND');
      const noToken = await harness.handle.app.inject({ method: 'POST', url: `/alerts/${alert.alert_id}/response/${decision.id}/undo`, payload: {} });
      assert.equal(noToken.statusCode, 401);
      const badBody = await harness.handle.app.inject({ method: 'POST', url: `/alerts/${alert.alert_id}/response/${decision.id}/undo`, headers: AUTH, payload: { actor: 7 } });
      assert.equal(badBody.statusCode, 400);
      assert.equal((await lapi.decisionsFor(address)).length, 1, 'refused requests changed nothing');

      const undo = await harness.handle.app.inject({
        method: 'POST',
        url: `/alerts/${alert.alert_id}/response/${decision.id}/undo`,
        headers: AUTH,
        payload: { actor: 'alice', note: 'my own test box' },
      });
      assert.equal(undo.statusCode, 200, undo.body);
      assert.equal(undo.json().state, 'undone');
      assert.equal(undo.json().undone_by, 'alice');
      assert.deepEqual(await lapi.decisionsFor(address), [], 'after the undo the bouncer no longer sees a decision');
      const again = await harness.handle.app.inject({ method: 'POST', url: `/alerts/${alert.alert_id}/response/${decision.id}/undo`, headers: AUTH, payload: {} });
      assert.equal(again.statusCode, 200, 'undoing twice answers the undone decision');
      const history = (await response(harness, alert.alert_id))!.events.at(-1)!;
      assert.equal(history.action, 'undone');
      assert.equal(history.actor, 'alice');
      assert.match(history.detail ?? '', /deleted from the Local API: my own test box/);
      assert.equal(await metric(harness, 'undone'), 1);
    } finally {
      await harness.stop();
    }
  });

  test('allow-listed, loopback and address-less alerts are recorded as skipped and never pushed, even in enforce mode', async () => {
    const harness = await start(enforceYaml());
    try {
      const cases: [string | null, RegExp][] = [
        ['192.168.1.142', /^allowlisted \(192\.168\.0\.0\/16\)$/],
        ['::ffff:10.1.2.3', /^allowlisted \(10\.0\.0\.0\/8\)$/],
        ['2001:db8:aaaa::5', /^allowlisted \(2001:db8:aaaa::\/48\)$/],
        ['127.0.0.1', /^allowlisted \(127\.0\.0\.0\/8\)$/],
        [null, /^no valid source address/],
        ['not-an-address', /^no valid source address/],
      ];
      for (const [address, reason] of cases) {
        const alert = bruteForce(address);
        await publish(harness, alert);
        const decision = (await settled(harness, alert.alert_id, ['skipped'])).decisions[0]!;
        assert.match(decision.reason ?? '', reason, `${address}: ${decision.reason}`);
        const undo = await harness.handle.app.inject({ method: 'POST', url: `/alerts/${alert.alert_id}/response/${decision.id}/undo`, headers: AUTH, payload: {} });
        assert.equal(undo.statusCode, 409, 'a skipped decision has nothing to undo');
        assert.equal(undo.json().code, 'AF_DECISION_NOT_UNDOABLE');
      }
      for (const address of ['192.168.1.142', '10.1.2.3', '2001:db8:aaaa::5', '127.0.0.1']) {
        assert.deepEqual(await lapi.decisionsFor(address), [], `${address} is never banned`);
      }
      assert.equal(await metric(harness, 'skipped'), cases.length);
      assert.equal(await metric(harness, 'pushed'), 0);
    } finally {
      await harness.stop();
    }
  });

  test("the dashboard user's address (reported by an authenticated caller) is never banned; an anonymous claim is refused", async () => {
    const harness = await start(enforceYaml());
    try {
      const operator = testAddress();
      const stranger = testAddress() === operator ? '203.0.113.251' : testAddress();
      // Without a token the claim is refused.
      const anonymous = await harness.handle.app.inject({ method: 'POST', url: '/response/operator-addresses', payload: { address: stranger } });
      assert.equal(anonymous.statusCode, 401);
      const bad = await harness.handle.app.inject({ method: 'POST', url: '/response/operator-addresses', headers: AUTH, payload: { address: 'somewhere' } });
      assert.equal(bad.statusCode, 400);
      assert.match(String(bad.headers['content-type']), /application\/problem\+json/);
      const seen = await harness.handle.app.inject({ method: 'POST', url: '/response/operator-addresses', headers: AUTH, payload: { address: operator } });
      assert.equal(seen.statusCode, 204);

      const own = bruteForce(operator);
      await publish(harness, own);
      const skipped = (await settled(harness, own.alert_id, ['skipped'])).decisions[0]!;
      assert.equal(skipped.reason, "allowlisted (a dashboard user's address, reported by test)");
      assert.deepEqual(await lapi.decisionsFor(operator), []);

      const other = bruteForce(stranger);
      await publish(harness, other);
      await settled(harness, other.alert_id, ['pushed']);
      assert.equal((await lapi.decisionsFor(stranger)).length, 1, 'an address claimed without a token is banned as usual');
    } finally {
      await harness.stop();
    }
  });

  test('through the dashboard: its user (behind a trusted proxy) is never banned, the page shows the ban, and Undo removes it', async () => {
    const harness = await start(enforceYaml());
    const dashboard = await buildDashboardServer({
      config: loadDashboardConfig({
        APP_PORT: '0',
        NOTIFICATION_SERVICE_URL: harness.handle.urls['http']!,
        NOTIFICATION_API_TOKEN: TOKEN,
        TRUSTED_PROXIES: '127.0.0.0/8',
      }),
      logger: silentLogger,
    });
    try {
      const user = testAddress();
      let attacker = testAddress();
      while (attacker === user) attacker = testAddress();
      // The user opens the alert list through the ingress (a trusted proxy on the loopback).
      const list = await dashboard.app.inject({ url: '/', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': `${user}` } });
      assert.equal(list.statusCode, 200);
      // A client that is no proxy cannot name an address for itself: its own socket address counts.
      await dashboard.app.inject({ url: '/', remoteAddress: '198.18.0.1', headers: { 'x-forwarded-for': attacker } });

      const own = bruteForce(user);
      await publish(harness, own);
      assert.equal((await settled(harness, own.alert_id, ['skipped'])).decisions[0]!.reason, "allowlisted (a dashboard user's address, reported by event-audit-dashboard)");
      assert.deepEqual(await lapi.decisionsFor(user), [], 'the dashboard user is never banned');

      const attack = bruteForce(attacker);
      await publish(harness, attack);
      const decision = (await settled(harness, attack.alert_id, ['pushed'])).decisions[0]!;
      assert.equal((await lapi.decisionsFor(attacker)).length, 1, 'a forged X-Forwarded-For did not protect the attacker');

      const page = await dashboard.app.inject({ url: `/alert/${attack.alert_id}`, remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': user } });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<h2 id="card-response">Response<\/h2>/);
      assert.match(page.body, new RegExp(`ban ${attacker.replace(/\./g, '\\.')}</strong> for 4h`));
      assert.match(page.body, /data-undo-decision="[0-9a-f-]{36}"/);
      assert.match(page.body, /by rule ANLY-SEC-001 via output crowdsec/);

      const url = `/api/alerts/${attack.alert_id}/response/${decision.id}/undo`;
      const crossSite = await dashboard.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, payload: {} });
      assert.equal(crossSite.statusCode, 403, 'CSRF: a cross-site undo is refused');
      assert.equal((await lapi.decisionsFor(attacker)).length, 1);
      const undo = await dashboard.app.inject({
        method: 'POST',
        url,
        remoteAddress: '127.0.0.1',
        headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', 'x-forwarded-for': user },
        payload: {},
      });
      assert.equal(undo.statusCode, 200, undo.body);
      assert.deepEqual(await lapi.decisionsFor(attacker), [], 'undo from the alert page removed the ban');
      const after = await dashboard.app.inject({ url: `/alert/${attack.alert_id}` });
      assert.match(after.body, new RegExp(`undone</span> <span class="muted">by event-audit-dashboard user at ${user.replace(/\./g, '\\.')}`));
    } finally {
      await dashboard.app.close();
      await harness.stop();
    }
  });

  test('dry-run (the default mode) records and shows the decision and pushes nothing', async () => {
    // No url or credentials: dry-run needs no Local API at all.
    const harness = await start('    duration: 2h\n');
    try {
      const address = testAddress();
      const alert = bruteForce(address);
      await publish(harness, alert);
      const body = await settled(harness, alert.alert_id, ['recorded']);
      const decision = body.decisions[0]!;
      assert.equal(decision.mode, 'dry-run');
      assert.equal(decision.address, address);
      assert.equal(decision.duration_seconds, 7200);
      assert.equal(decision.lapi_decision_ids, null);
      assert.deepEqual(body.events.map((e) => e.action), ['recorded']);
      assert.match(body.events[0]!.detail ?? '', /ban 203\.0\.113\.\d+ for 2h \(dry-run\)/);
      assert.deepEqual(await lapi.decisionsFor(address), [], 'nothing reached the Local API');
      assert.equal(await metric(harness, 'recorded'), 1);
      const undo = await harness.handle.app.inject({ method: 'POST', url: `/alerts/${alert.alert_id}/response/${decision.id}/undo`, headers: AUTH, payload: {} });
      assert.equal(undo.json().state, 'undone', 'a dry-run record can be withdrawn too');
    } finally {
      await harness.stop();
    }
  });

  test('an output switched from enforce to dry-run while a push is pending records the decision as dry-run instead of failing it', async () => {
    // The Local API is unreachable, so the decision stays pending with its delivery due again.
    const unreachable = enforceYaml().replace(lapi.url, 'http://127.0.0.1:9');
    const enforcing = await start(unreachable);
    const address = testAddress();
    const alert = bruteForce(address);
    try {
      await publish(enforcing, alert);
      await waitFor(async () => ((await response(enforcing, alert.alert_id))?.decisions[0]?.last_error ? true : undefined), 20_000, 'a failed push');
    } finally {
      await enforcing.stop();
    }
    // The operator edits the outputs file to dry-run and restarts: the pending delivery runs again.
    const dryRun = await start('    duration: 4h\n');
    try {
      const body = await settled(dryRun, alert.alert_id, ['recorded']);
      const decision = body.decisions[0]!;
      assert.equal(decision.mode, 'dry-run');
      assert.equal(decision.last_error, null);
      const last = body.events.at(-1)!;
      assert.equal(last.action, 'recorded');
      assert.equal(last.actor, 'output crowdsec');
      assert.match(last.detail ?? '', /output "crowdsec" is now dry-run: recorded, not pushed/);
      assert.deepEqual(body.events.map((e) => e.action).filter((a) => a !== 'push-failed'), ['decided', 'recorded']);
      // The wire contract the dashboard's timeline reads: every decision and step as typed in contracts/response.ts.
      const isDecision = contractValidator(ResponseDecisionSchema);
      const isEvent = contractValidator(ResponseEventSchema);
      for (const d of body.decisions) assert.ok(isDecision(d), JSON.stringify(isDecision.errors));
      for (const e of body.events) assert.ok(isEvent(e), JSON.stringify(isEvent.errors));
      // The alert's own history keeps its meaning: status changes only, no response step in it.
      const ack = await dryRun.handle.app.inject({ method: 'PATCH', url: `/alerts/${alert.alert_id}`, headers: AUTH, payload: { status: 'acknowledged' } });
      assert.equal(ack.statusCode, 200, ack.body);
      const detail = await dryRun.handle.app.inject({ url: `/alerts/${alert.alert_id}`, headers: AUTH });
      assert.equal(detail.statusCode, 200, detail.body);
      const statusHistory = (detail.json() as { history: Record<string, unknown>[] }).history;
      assert.ok(statusHistory.length >= 1);
      for (const entry of statusHistory) {
        assert.ok('to_status' in entry && !('action' in entry), JSON.stringify(entry));
      }
      await waitFor(
        async () => {
          const { rows } = await db.admin.query<{ status: string }>(`SELECT status FROM deliveries WHERE alert_id = $1::uuid AND output = 'crowdsec'`, [alert.alert_id]);
          return rows[0]?.status === 'sent' ? true : undefined;
        },
        20_000,
        'the delivery settled as sent',
      );
      assert.deepEqual(await lapi.decisionsFor(address), [], 'nothing reached the Local API');
    } finally {
      await dryRun.stop();
    }
  });

  test('a Local API outage then recovery delivers the decision exactly once, also when the answer to a push is lost', async () => {
    const harness = await start(enforceYaml());
    try {
      await lapi.stop();
      const address = testAddress();
      const alert = bruteForce(address);
      await publish(harness, alert);
      const failing = await waitFor(
        async () => {
          const body = await response(harness, alert.alert_id);
          return body?.decisions[0]?.last_error ? body : undefined;
        },
        20_000,
        'a failed push recorded',
      );
      assert.equal(failing.decisions[0]!.state, 'pending');
      assert.match(failing.decisions[0]!.last_error!, /ECONNREFUSED|fetch failed/);
      await lapi.start();
      await settled(harness, alert.alert_id, ['pushed']);
      assert.equal((await lapi.decisionsFor(address)).length, 1, 'one decision after the outage');

      // A crash after the push and before its commit: the row is pending again and the delivery due.
      await db.admin.query(`UPDATE response_decisions SET state = 'pending' WHERE alert_id = $1::uuid`, [alert.alert_id]);
      await db.admin.query(`UPDATE deliveries SET status = 'pending', next_attempt_at = NOW() WHERE alert_id = $1::uuid AND output = 'crowdsec'`, [alert.alert_id]);
      harness.handle.delivery?.wake();
      await settled(harness, alert.alert_id, ['pushed']);
      await waitFor(
        async () => {
          const { rows } = await db.admin.query<{ status: string }>(`SELECT status FROM deliveries WHERE alert_id = $1::uuid AND output = 'crowdsec'`, [alert.alert_id]);
          return rows[0]?.status === 'sent' ? true : undefined;
        },
        20_000,
        'the redelivery settled',
      );
      assert.equal((await lapi.decisionsFor(address)).length, 1, 'the retry found its decision at the LAPI instead of pushing a second');
      assert.ok((await metric(harness, 'push_failed')) >= 1);
    } finally {
      await harness.stop();
    }
  });
});
