import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type RunningPlatform, startAllInOne } from '../src/all-in-one.ts';

const run = promisify(execFile);

let dir: string;
let platform: RunningPlatform;
const token = 'all-in-one-test-token-0123456789';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'af-aio-ingest-'));
  platform = await startAllInOne({
    PATH: process.env['PATH'] ?? '',
    DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'silent',
    API_TOKENS: token,
    EVENTS_PER_SECOND: '0',
    SCENARIO_INTERVAL_SECONDS: '0',
    DASHBOARD_PORT: '0',
    NOTIFICATION_PORT: '0',
    GENERATOR_PORT: '0',
    GENERATOR_METRICS_PORT: '0',
    ANALYSIS_PORT: '0',
    ANALYSIS_METRICS_PORT: '0',
    INGEST_PORT: '0',
    INGEST_METRICS_PORT: '0',
    SYSLOG_PORT: '0',
  });
});

after(async () => {
  await platform?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('npm start opens the ingest listeners on loopback, and logger lines become an alert in the notification API', async () => {
  const banner = /ingest \(audit, syslog\) (http:\/\/127\.0\.0\.1:\d+)\/k8s\/audit\s+syslog tcp\+udp 127\.0\.0\.1:(\d+)/.exec(platform.summary);
  assert.ok(banner, platform.summary);
  const syslogPort = banner[2]!;
  const file = join(dir, 'sshd.log');
  await writeFile(file, `${Array.from({ length: 5 }, (_, i) => `Failed password for pi from 203.0.113.50 port ${52000 + i} ssh2`).join('\n')}\n`);
  await run('logger', ['-n', '127.0.0.1', '-P', syslogPort, '-T', '--octet-count', '-t', 'sshd', '--id=777', '-p', 'authpriv.info', '-f', file]);
  const api = platform.services.find((service) => service.name === 'notification-service')!.urls['http']!;
  const deadline = Date.now() + 20_000;
  let names: string[] = [];
  while (Date.now() < deadline) {
    const response = await fetch(`${api}/alerts?limit=10`, { headers: { authorization: `Bearer ${token}` } });
    names = ((await response.json()) as { alert_name: string }[]).map((alert) => alert.alert_name);
    if (names.length > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.deepEqual(names, ['SSH Brute Force']);
});
