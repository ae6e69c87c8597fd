import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { makeAlert, postgresDatabase, type TestDatabase, waitFor } from '../../src/notification-service/test/helpers.ts';
import { type Harness, startHarness, TOKEN } from '../../src/notification-service/test/service-harness.ts';
import { crowdsecMissing, type LocalApi, startLocalApi } from '../support/crowdsec.ts';
import { type RunningProcess, track } from '../support/processes.ts';

/**
 * Where the response output ends: Debian's crowdsec-firewall-bouncer (nftables) enforcing the
 * ban. Two network namespaces stand for a Pi ("victim", running the bouncer and a TCP service)
 * and an attacker, joined by a veth pair; a third veth joins the victim to the host, where the
 * Local API and the notification-service run. Nothing touches the host's own firewall.
 */
const run = promisify(execFile);
const id = Math.random().toString(36).slice(2, 7);
const net = 1 + Math.floor(Math.random() * 250);
const VICTIM = `afv${id}`;
const ATTACKER = `afa${id}`;
const HOST_LINK = `afh${id}`;
const LAPI_HOST = `10.252.${net}.1`;
const VICTIM_ADDRESS = `10.251.${net}.1`;
const ATTACKER_ADDRESS = `10.251.${net}.2`;

function why(): string | undefined {
  const missing = crowdsecMissing();
  if (missing) return missing;
  if (!existsSync('/usr/bin/crowdsec-firewall-bouncer')) return "Debian's crowdsec-firewall-bouncer is not installed (scripts/install-test-tools.sh)";
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  return undefined;
}
const skip = why();

let lapi: LocalApi;
let db: TestDatabase;
let harness: Harness;
let dir: string;
let bouncer: RunningProcess | undefined;
let service: RunningProcess | undefined;

async function ip(...args: string[]): Promise<void> {
  await run('ip', args);
}

/** Whether a TCP connection from the attacker's namespace to the victim's service gets an answer. */
async function reachable(): Promise<boolean> {
  const probe = `const s=require('net').connect(9999,'${VICTIM_ADDRESS}');s.setTimeout(1500,()=>process.exit(2));s.on('data',()=>process.exit(0));s.on('error',()=>process.exit(3));`;
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ATTACKER, process.execPath, '-e', probe], { stdio: 'ignore' });
    child.on('exit', (code) => resolve(code === 0));
  });
}

before(async () => {
  if (skip) return;
  await ip('netns', 'add', VICTIM);
  await ip('netns', 'add', ATTACKER);
  await ip('link', 'add', HOST_LINK, 'type', 'veth', 'peer', 'name', 'tohost');
  await ip('link', 'set', 'tohost', 'netns', VICTIM);
  await ip('addr', 'add', `${LAPI_HOST}/30`, 'dev', HOST_LINK);
  await ip('link', 'set', HOST_LINK, 'up');
  await ip('-n', VICTIM, 'addr', 'add', `10.252.${net}.2/30`, 'dev', 'tohost');
  await ip('-n', VICTIM, 'link', 'set', 'tohost', 'up');
  await ip('-n', VICTIM, 'link', 'set', 'lo', 'up');
  await ip('-n', VICTIM, 'link', 'add', 'toattacker', 'type', 'veth', 'peer', 'name', 'tovictim');
  await ip('-n', VICTIM, 'link', 'set', 'tovictim', 'netns', ATTACKER);
  await ip('-n', VICTIM, 'addr', 'add', `${VICTIM_ADDRESS}/30`, 'dev', 'toattacker');
  await ip('-n', VICTIM, 'link', 'set', 'toattacker', 'up');
  await ip('-n', ATTACKER, 'addr', 'add', `${ATTACKER_ADDRESS}/30`, 'dev', 'tovictim');
  await ip('-n', ATTACKER, 'link', 'set', 'tovictim', 'up');

  dir = await mkdtemp(join(tmpdir(), 'af-firewall-'));
  lapi = await startLocalApi({ listenHost: LAPI_HOST });
  const config = join(dir, 'bouncer.yaml');
  // Debian's shipped file with the values a test needs: nftables, its own key, a fast refresh.
  await writeFile(
    config,
    `mode: nftables
pid_dir: ${dir}/
update_frequency: 1s
daemonize: false
log_mode: stdout
log_level: info
api_url: ${lapi.url}/
api_key: ${lapi.bouncerKey}
disable_ipv6: true
deny_action: DROP
deny_log: false
supported_decisions_types: [ban]
blacklists_ipv4: crowdsec-blacklists
blacklists_ipv6: crowdsec6-blacklists
ipset_type: nethash
iptables_chains: [INPUT]
nftables:
  ipv4: { enabled: true, set-only: false, table: crowdsec, chain: crowdsec-chain }
  ipv6: { enabled: false, set-only: false, table: crowdsec6, chain: crowdsec6-chain }
prometheus: { enabled: false, listen_addr: 127.0.0.1, listen_port: 60601 }
`,
  );
  bouncer = track(spawn('ip', ['netns', 'exec', VICTIM, 'crowdsec-firewall-bouncer', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] }));
  service = track(
    spawn('ip', ['netns', 'exec', VICTIM, process.execPath, '-e', `require('net').createServer((s)=>s.end('hi')).listen(9999,'${VICTIM_ADDRESS}')`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  db = await postgresDatabase();
  const outputs = join(dir, 'outputs.yaml');
  await writeFile(
    outputs,
    `outputs:
  - name: crowdsec
    type: crowdsec
    mode: enforce
    url: ${lapi.url}
    machine_id: ${lapi.machineId}
    password: { env: AF_FW_CROWDSEC_PASSWORD }
    duration: 10m
route:
  receiver: crowdsec
  group_wait: 0s
`,
  );
  process.env.AF_FW_CROWDSEC_PASSWORD = lapi.password;
  harness = await startHarness(db, { env: { OUTPUTS_FILE: outputs, OUTBOX_POLL_MS: '50' } });
});

after(async () => {
  if (skip) return;
  await harness?.stop();
  await db?.drop();
  await service?.stop();
  await bouncer?.stop();
  await lapi?.close();
  await ip('netns', 'del', ATTACKER).catch(() => undefined);
  await ip('netns', 'del', VICTIM).catch(() => undefined);
  await ip('link', 'del', HOST_LINK).catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("crowdsec-firewall-bouncer (nftables) drops the banned address's packets, and lets them through again after the undo", { skip }, async () => {
  await waitFor(async () => ((await reachable()) ? true : undefined), 20_000, 'the victim service answering the attacker before any ban');

  const alert = makeAlert({ triggered_by: { actor_type: 'USER', actor_id: 'root', client_ip: ATTACKER_ADDRESS } });
  await harness.broker.publish(harness.queue, { body: alert, messageId: alert.alert_id, correlationId: alert.correlation_id });
  const decision = await waitFor(
    async () => {
      const answer = await harness.handle.app.inject({ url: `/alerts/${alert.alert_id}/response` });
      if (answer.statusCode !== 200) return undefined;
      const found = (answer.json() as { decisions: { id: string; state: string }[] }).decisions[0];
      return found?.state === 'pushed' ? found : undefined;
    },
    20_000,
    'the ban pushed',
  );
  await waitFor(async () => ((await reachable()) ? undefined : true), 20_000, `the bouncer dropping ${ATTACKER_ADDRESS}\n${bouncer?.output().slice(-1500)}`);
  const { stdout } = await run('ip', ['netns', 'exec', VICTIM, 'nft', 'list', 'set', 'ip', 'crowdsec', 'crowdsec-blacklists']);
  assert.match(stdout, new RegExp(`elements = \\{ ${ATTACKER_ADDRESS.replace(/\./g, '\\.')} timeout`), 'the address is in the bouncer set, with its TTL');

  const undo = await harness.handle.app.inject({
    method: 'POST',
    url: `/alerts/${alert.alert_id}/response/${decision.id}/undo`,
    headers: { authorization: `Bearer ${TOKEN}` },
    payload: { actor: 'alice' },
  });
  assert.equal(undo.statusCode, 200, undo.body);
  await waitFor(async () => ((await reachable()) ? true : undefined), 20_000, 'the attacker reaching the service again after the undo');
});
