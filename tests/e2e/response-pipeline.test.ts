import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startAllInOne, type RunningPlatform } from '../../src/auditflow/src/all-in-one.ts';
import { waitFor } from '../../src/common/test/support.ts';
import { crowdsecMissing, type LocalApi, startLocalApi } from '../support/crowdsec.ts';
import { freePort } from '../support/processes.ts';

/**
 * The whole pipeline into a real CrowdSec Local API: sshd's own "Failed password" lines enter
 * audit-ingest as journald JSON, the analysis's SSH brute force rule (ANLY-SRC-003) raises an
 * alert, and the crowdsec output bans the attacker's address, which a bouncer then reads from
 * the LAPI's GET /v1/decisions. The all-in-one runs the five services on embedded defaults.
 */
const missing = crowdsecMissing();
let lapi: LocalApi;
let dir: string;
let platform: RunningPlatform;
let ingestUrl: string;
let notificationUrl: string;

before(async () => {
  if (missing) return;
  lapi = await startLocalApi();
  dir = await mkdtemp(join(tmpdir(), 'af-response-e2e-'));
  const outputs = join(dir, 'outputs.yaml');
  await writeFile(
    outputs,
    `outputs:
  - name: ban
    type: crowdsec
    mode: enforce
    url: ${lapi.url}
    machine_id: ${lapi.machineId}
    password: { env: AF_E2E_CROWDSEC_PASSWORD }
    duration: 1h
    allowlist: [192.168.1.0/24]
route:
  receiver: ban
  group_wait: 0s
`,
  );
  const ports = await Promise.all(Array.from({ length: 9 }, () => freePort()));
  const [dashboard, notification, generator, generatorMetrics, analysis, analysisMetrics, ingest, ingestMetrics, syslog] = ports.map(String);
  platform = await startAllInOne({
    PATH: process.env['PATH'] ?? '',
    DATA_DIR: join(dir, 'data'),
    OUTPUTS_FILE: outputs,
    AF_E2E_CROWDSEC_PASSWORD: lapi.password,
    LOG_LEVEL: 'silent',
    EVENTS_PER_SECOND: '0',
    SCENARIO_INTERVAL_SECONDS: '0',
    DASHBOARD_PORT: dashboard!,
    NOTIFICATION_PORT: notification!,
    GENERATOR_PORT: generator!,
    GENERATOR_METRICS_PORT: generatorMetrics!,
    ANALYSIS_PORT: analysis!,
    ANALYSIS_METRICS_PORT: analysisMetrics!,
    INGEST_PORT: ingest!,
    INGEST_METRICS_PORT: ingestMetrics!,
    SYSLOG_PORT: syslog!,
  });
  ingestUrl = `http://127.0.0.1:${ingest}`;
  notificationUrl = `http://127.0.0.1:${notification}`;
});

after(async () => {
  await platform?.stop();
  await lapi?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Six wrong root passwords from `address` on `host`, as sshd writes them, as journald JSON lines. */
async function bruteForce(address: string, host: string): Promise<void> {
  const now = Date.now() - 30_000;
  const lines = Array.from({ length: 6 }, (_, i) =>
    JSON.stringify({
      __CURSOR: `s=${host};i=${i + 1};b=e2e`,
      __REALTIME_TIMESTAMP: String((now + i * 1000) * 1000),
      _HOSTNAME: host,
      SYSLOG_IDENTIFIER: 'sshd',
      _PID: String(4000 + i),
      PRIORITY: '6',
      SYSLOG_FACILITY: '10',
      _TRANSPORT: 'syslog',
      MESSAGE: `Failed password for root from ${address} port ${40000 + i} ssh2`,
    }),
  );
  const response = await fetch(`${ingestUrl}/journald`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: `${lines.join('\n')}\n` });
  assert.ok(response.status < 300, `ingest answered ${response.status}: ${await response.text()}`);
}

async function decisionFor(host: string): Promise<{ alert_id: string; rule_id: string; decision?: { state: string; reason: string | null; address: string } }> {
  return waitFor(
    async () => {
      const alerts = (await (await fetch(`${notificationUrl}/alerts?host=${host}`)).json()) as { alert_id: string; rule_id: string }[];
      const alert = alerts.find((a) => a.rule_id === 'ANLY-SRC-003');
      if (alert === undefined) return undefined;
      const body = (await (await fetch(`${notificationUrl}/alerts/${alert.alert_id}/response`)).json()) as { decisions: { state: string; reason: string | null; address: string }[] };
      const decision = body.decisions[0];
      return decision && decision.state !== 'pending' ? { ...alert, decision } : undefined;
    },
    60_000,
    `the SSH brute force alert of ${host} and its decision`,
  );
}

test('an SSH brute force from sshd lines to a CrowdSec ban a bouncer sees; an allow-listed LAN address is never banned', { skip: missing }, async () => {
  const attacker = `203.0.113.${20 + Math.floor(Math.random() * 200)}`;
  const host = `pi-e2e-${Math.random().toString(36).slice(2, 8)}`;
  await bruteForce(attacker, host);
  const banned = await decisionFor(host);
  assert.equal(banned.decision?.state, 'pushed');
  assert.equal(banned.decision?.address, attacker);
  const seen = await lapi.decisionsFor(attacker);
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.type, 'ban');
  assert.equal(seen[0]!.scenario, 'auditflow/ANLY-SRC-003');
  assert.match(seen[0]!.duration, /^(59m[\d.]+s|1h0m0s)$/, `a 1h TTL: ${seen[0]!.duration}`);

  const lan = '192.168.1.77';
  const lanHost = `pi-e2e-${Math.random().toString(36).slice(2, 8)}`;
  await bruteForce(lan, lanHost);
  const spared = await decisionFor(lanHost);
  assert.equal(spared.decision?.state, 'skipped');
  assert.equal(spared.decision?.reason, 'allowlisted (192.168.1.0/24)');
  assert.deepEqual(await lapi.decisionsFor(lan), []);
});
