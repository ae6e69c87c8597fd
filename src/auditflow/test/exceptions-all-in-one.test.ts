import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningPlatform, startAllInOne } from '../src/all-in-one.ts';

let dir: string;
let platform: RunningPlatform;
const token = 'all-in-one-exceptions-token-0123456789';
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'af-aio-exceptions-'));
  await writeFile(join(dir, 'tokens'), `${token} scopes=read,ack,admin name=ops\n`);
  platform = await startAllInOne({
    PATH: process.env['PATH'] ?? '',
    DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: 'silent',
    API_TOKENS_FILE: join(dir, 'tokens'),
    EXCEPTIONS_RELOAD_SECONDS: '1',
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

const url = (service: string) => platform.services.find((s) => s.name === service)!.urls['http']!;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function bruteForce(user: string, host: string): Promise<void> {
  const response = await fetch(`${url('audit-event-generator')}/scenarios/brute-force`, { method: 'POST', headers, body: JSON.stringify({ user, host }) });
  assert.equal(response.status, 202);
}

async function alertsFor(user: string): Promise<{ alert_id: string }[]> {
  return (await (await fetch(`${url('notification-service')}/alerts?user=${user}`, { headers })).json()) as { alert_id: string }[];
}

test('npm start: an exception saved through the API is written to DATA_DIR/exceptions.yaml and the analysis applies it without a restart', async () => {
  const file = join(dir, 'data', 'exceptions.yaml');
  assert.match(platform.summary, /exceptions file\s+.*exceptions\.yaml/);
  assert.match(await readFile(file, 'utf8'), /^exceptions: \[\]$/m, 'created empty at start');

  await bruteForce('aio-first', 'aio-host');
  await until('the first alert', async () => ((await alertsFor('aio-first')).length > 0 ? true : undefined));

  const save = await fetch(`${url('notification-service')}/exceptions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ rule_id: 'ANLY-SEC-001', fields: { host: 'aio-host' }, reason: 'lab box' }),
  });
  assert.equal(save.status, 201);
  const saved = (await save.json()) as { exception: { id: string; author: string }; file: { written: boolean; path: string } };
  assert.equal(saved.file.written, true);
  assert.equal(saved.file.path, file);
  assert.equal(saved.exception.author, 'ops', 'the token name when no author is typed');
  assert.match(await readFile(file, 'utf8'), new RegExp(`id: ${saved.exception.id}`));

  const analysis = platform.services.find((s) => s.name === 'audit-log-analysis') as unknown as { exceptions?: { current: { size: number } } };
  await until('the analysis to reload', async () => (analysis.exceptions?.current.size === 1 ? true : undefined));

  // A new burst on the excepted host raises nothing; one elsewhere still does.
  await bruteForce('aio-second', 'aio-host');
  await bruteForce('aio-third', 'other-host');
  await until('the alert on the other host', async () => ((await alertsFor('aio-third')).length > 0 ? true : undefined));
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(await alertsFor('aio-second'), []);
});
