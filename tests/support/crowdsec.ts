import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, type RunningProcess, track } from './processes.ts';
import { spawn } from 'node:child_process';

const run = promisify(execFile);

/** Why the CrowdSec tests cannot run here, or undefined when Debian's crowdsec package is installed. */
export function crowdsecMissing(): string | undefined {
  for (const binary of ['/usr/bin/crowdsec', '/usr/bin/cscli']) {
    if (!existsSync(binary)) return `${binary} is missing: install Debian's crowdsec package (scripts/install-test-tools.sh)`;
  }
  if (!existsSync('/var/lib/crowdsec/hub/.index.json')) return 'crowdsec has no hub index (/var/lib/crowdsec/hub/.index.json)';
  return undefined;
}

export interface LocalApi {
  url: string;
  machineId: string;
  password: string;
  bouncerKey: string;
  /** What a bouncer sees for the address: GET /v1/decisions?ip= with its API key. */
  decisionsFor(address: string): Promise<{ id: number; duration: string; type: string; value: string; origin: string; scenario: string }[]>;
  /** Stops the LAPI (an outage); start() brings it back on the same port and database. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
  log(): string;
}

/**
 * A CrowdSec Local API of its own: a config in a temp dir (own port, own SQLite database, no
 * Central API, prometheus off), a machine and a bouncer added with cscli, then `crowdsec -no-cs`
 * (the API alone, no log processing). trusted_ips excludes the loopback so the tests show what
 * an ordinary machine may do, not an admin from a trusted address.
 */
/** `listenHost`: where the LAPI listens (default the loopback), e.g. a veth address a network namespace reaches. */
export async function startLocalApi(options: { listenHost?: string } = {}): Promise<LocalApi> {
  const host = options.listenHost ?? '127.0.0.1';
  const dir = await mkdtemp(join(tmpdir(), 'af-crowdsec-'));
  await mkdir(join(dir, 'data'));
  const port = await freePort();
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    `common:
  daemonize: false
  log_media: stdout
  log_level: info
  working_dir: ${dir}
config_paths:
  config_dir: /etc/crowdsec/
  data_dir: ${dir}/data/
  simulation_path: /etc/crowdsec/simulation.yaml
  hub_dir: /var/lib/crowdsec/hub/
  index_path: /var/lib/crowdsec/hub/.index.json
  notification_dir: ${dir}/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: /etc/crowdsec/acquis.yaml
cscli:
  output: raw
db_config:
  log_level: info
  type: sqlite
  use_wal: false
  db_path: ${dir}/data/crowdsec.db
api:
  client:
    credentials_path: ${dir}/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: ${host}:${port}
    profiles_path: /etc/crowdsec/profiles.yaml
    trusted_ips:
      - 192.0.2.254
prometheus:
  enabled: false
`,
  );
  const machineId = `auditflow-${Math.random().toString(36).slice(2, 10)}`;
  const password = `pw-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  await run('cscli', ['-c', config, 'machines', 'add', machineId, '--password', password, '-f', join(dir, 'machine.yaml')], { cwd: dir });
  const { stdout } = await run('cscli', ['-c', config, 'bouncers', 'add', 'af-test-bouncer', '-o', 'raw'], { cwd: dir });
  const bouncerKey = stdout.trim().split('\n').pop()!.trim();
  const url = `http://${host}:${port}`;
  let lapi: RunningProcess | undefined;
  let logs = '';

  const start = async (): Promise<void> => {
    lapi = track(spawn('crowdsec', ['-c', config, '-no-cs'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }));
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const response = await fetch(`${url}/v1/decisions`, { headers: { 'x-api-key': bouncerKey } });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the Local API did not come up:\n${lapi.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const stop = async (): Promise<void> => {
    if (lapi === undefined) return;
    logs += lapi.output();
    await lapi.stop('SIGTERM', 10_000);
    lapi = undefined;
  };
  await start();
  return {
    url,
    machineId,
    password,
    bouncerKey,
    decisionsFor: async (address) => {
      const response = await fetch(`${url}/v1/decisions?ip=${encodeURIComponent(address)}`, { headers: { 'x-api-key': bouncerKey } });
      if (!response.ok) throw new Error(`GET /v1/decisions: HTTP ${response.status}`);
      return ((await response.json()) as never[] | null) ?? [];
    },
    stop,
    start,
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
    log: () => logs + (lapi?.output() ?? ''),
  };
}
