// `auditflow start` as a new user meets it: a child process, failures that name what to change, and a data
// directory that a second opener cannot corrupt. Real PostgreSQL and RabbitMQ where a server is configured.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { lockDataDir, PgliteClient } from '@auditflow/notification-service';
import { RABBITMQ_URL } from '../../common/test/support.ts';
import { freePort, type RunningProcess, track, waitForOutput } from '../../../tests/support/processes.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const TOKEN = 'startup-test-token';
const PORT_VARIABLES = ['DASHBOARD_PORT', 'NOTIFICATION_PORT', 'GENERATOR_PORT', 'GENERATOR_METRICS_PORT', 'ANALYSIS_PORT', 'ANALYSIS_METRICS_PORT'];

/** Every port picked by the kernel, nothing scheduled: the test decides what happens. */
function quietEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    API_TOKENS: TOKEN,
    EVENTS_PER_SECOND: '0',
    SCENARIO_INTERVAL_SECONDS: '0',
    ...Object.fromEntries(PORT_VARIABLES.map((name) => [name, '0'])),
    ...extra,
  };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--conditions=source', CLI, ...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

function startPlatform(env: Record<string, string>): RunningProcess {
  return track(spawn(process.execPath, ['--conditions=source', CLI, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

/** A port some other process holds, as a user's busy 8080 would be. */
async function occupyPort(host: string): Promise<{ port: number; release: () => Promise<void> }> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    release: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The one-line contract: a single non-empty stderr line, no stack frame, naming the variable. */
function assertOneLine(run: Run, variable: string, exitCode: number): void {
  assert.equal(run.code, exitCode, `${run.stdout}${run.stderr}`);
  const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0]!, /^auditflow: /);
  assert.ok(lines[0]!.includes(variable), `${variable} not named in: ${lines[0]}`);
  assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at /);
}

async function alertTotal(notificationUrl: string): Promise<number> {
  const response = await fetch(`${notificationUrl}/alerts/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(response.status, 200);
  return ((await response.json()) as { total: number }).total;
}

async function storedAlerts(dataDir: string): Promise<number> {
  const client = await PgliteClient.open({ dataDir: join(dataDir, 'notification') });
  try {
    const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts');
    return rows[0]!.n;
  } finally {
    await client.close();
  }
}

describe('auditflow start: the embedded data directory is locked', () => {
  let dataDir: string;
  before(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'af-start-lock-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('a second start and a migrate are refused naming the holder PID, and no alert is lost', async () => {
    const first = startPlatform(quietEnv(dataDir));
    try {
      const notificationUrl = (await waitForOutput(first, /notification API\s+(http:\/\/\S+)/))[1]!;
      const generatorUrl = (await waitForOutput(first, /generator API\s+(http:\/\/\S+)/))[1]!;
      const pid = first.child.pid!;
      assert.equal(readFileSync(join(dataDir, 'notification.lock'), 'utf8').trim(), String(pid));

      const scenario = await fetch(`${generatorUrl}/scenarios/brute-force`, { method: 'POST' });
      assert.equal(scenario.status, 202);
      const deadline = Date.now() + 30_000;
      let total = await alertTotal(notificationUrl);
      while (Date.now() < deadline && total === 0) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        total = await alertTotal(notificationUrl);
      }
      assert.ok(total > 0, 'the scenario raised no alert');

      const migrate = await cli(['migrate'], quietEnv(dataDir));
      assertOneLine(migrate, 'DATA_DIR', 69);
      assert.ok(migrate.stderr.includes(`process ${pid}`), migrate.stderr);
      const second = await cli(['start'], quietEnv(dataDir));
      assertOneLine(second, 'DATA_DIR', 69);
      assert.ok(second.stderr.includes(`process ${pid}`), second.stderr);
      assert.doesNotMatch(second.stdout, /starting notification-service/);

      assert.equal(await alertTotal(notificationUrl), total, 'the refused openers changed what the first one serves');
      assert.equal(await first.stop('SIGINT'), 0, first.output());
      assert.equal(await storedAlerts(dataDir), total);
    } finally {
      await first.stop('SIGKILL');
    }
  });

  test('a lock left by a dead process is taken over; a live holder is refused', async () => {
    const dir = join(dataDir, 'stale');
    // A PID that cannot be alive: above the kernel's pid_max.
    writeFileSync(`${dir}.lock`, '4194305\n');
    const lock = lockDataDir(dir);
    try {
      assert.equal(readFileSync(`${dir}.lock`, 'utf8').trim(), String(process.pid));
      assert.throws(() => lockDataDir(dir), { code: 'AF_DATA_DIR_LOCKED', holderPid: process.pid });
    } finally {
      lock.release();
    }
    assert.throws(() => readFileSync(`${dir}.lock`), { code: 'ENOENT' });
  });
});

describe('auditflow start: start-up failures are one line naming the variable', () => {
  let dataDir: string;
  let closedPort: number;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'af-start-fail-'));
    closedPort = await freePort();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('a busy port exits 78 naming its variable, before the store is opened', async () => {
    const { port, release } = await occupyPort('127.0.0.1');
    try {
      const dir = join(dataDir, 'busy');
      const run = await cli(['start'], quietEnv(dir, { NOTIFICATION_PORT: String(port) }));
      assertOneLine(run, 'NOTIFICATION_PORT', 78);
      assert.match(run.stderr, new RegExp(`port ${port} .*in use`));
      assert.throws(() => readFileSync(join(dir, 'notification', 'PG_VERSION')), { code: 'ENOENT' }, 'the store was created');
    } finally {
      await release();
    }
  });

  test('start --only: a busy port is one fatal log line naming APP_PORT, exit 78', async () => {
    const { port, release } = await occupyPort('0.0.0.0');
    try {
      const run = await cli(['start', '--only', 'event-audit-dashboard'], { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', APP_PORT: String(port) });
      assert.equal(run.code, 78, `${run.stdout}${run.stderr}`);
      const lines = (run.stdout + run.stderr).split('\n').filter((line) => line.includes('"level":"fatal"'));
      assert.equal(lines.length, 1, run.stdout + run.stderr);
      const entry = JSON.parse(lines[0]!) as { code: string; variable: string; msg: string; err?: unknown };
      assert.equal(entry.code, 'AF_PORT_IN_USE');
      assert.equal(entry.variable, 'APP_PORT');
      assert.match(entry.msg, new RegExp(`port ${port} .*in use.*APP_PORT`));
      assert.equal(entry.err, undefined, 'no stack in the log line');
    } finally {
      await release();
    }
  });

  test('an unreachable broker exits 69 naming RABBITMQ_URL', async () => {
    const run = await cli(['start'], quietEnv(join(dataDir, 'broker'), { RABBITMQ_URL: `amqp://guest:guest@127.0.0.1:${closedPort}/` }));
    assertOneLine(run, 'RABBITMQ_URL', 69);
    assert.match(run.stderr, /cannot reach RabbitMQ/);
    assert.throws(() => readFileSync(join(dataDir, 'broker', 'notification', 'PG_VERSION')), { code: 'ENOENT' });
  });

  test('an unreachable Redis exits 69 naming REDIS_URL (or REDIS_HOST) before the store is opened, without the running banner', async () => {
    for (const [extra, variable] of [
      [{ REDIS_URL: `redis://127.0.0.1:${closedPort}` }, 'REDIS_URL'],
      [{ REDIS_HOST: '127.0.0.1', REDIS_PORT: String(closedPort) }, 'REDIS_HOST'],
    ] as const) {
      const started = Date.now();
      const run = await cli(['start'], quietEnv(join(dataDir, 'redis'), extra));
      assertOneLine(run, variable, 69);
      assert.match(run.stderr, /cannot reach Redis/);
      assert.doesNotMatch(run.stdout, /AuditFlow is running/);
      assert.ok(Date.now() - started < 20_000, 'no 25 s shutdown wait');
      assert.throws(() => readFileSync(join(dataDir, 'redis', 'notification', 'PG_VERSION')), { code: 'ENOENT' });
    }
  });

  test('a broken rules file exits 78 naming RULES_FILE with file:line:col, before the store is opened or a service starts', async () => {
    const rulesFile = join(dataDir, 'broken-rules.yaml');
    writeFileSync(rulesFile, 'rules:\n  - id: X\n    detection: [unclosed\n');
    const run = await cli(['start'], quietEnv(join(dataDir, 'rules'), { RULES_FILE: rulesFile }));
    assertOneLine(run, 'RULES_FILE', 78);
    assert.match(run.stderr, /broken-rules\.yaml:\d+:\d+/);
    assert.doesNotMatch(run.stdout, /starting notification-service|AuditFlow is running/);
    assert.throws(() => readFileSync(join(dataDir, 'rules', 'notification', 'PG_VERSION')), { code: 'ENOENT' });
  });

  test('an unreachable database exits 69 naming DATABASE_URL, for start and migrate', async () => {
    const env = quietEnv(dataDir, { RABBITMQ_URL, DATABASE_URL: `postgres://postgres@127.0.0.1:${closedPort}/test` });
    for (const args of [['start'], ['migrate']]) {
      const run = await cli(args, env);
      assertOneLine(run, 'DATABASE_URL', 69);
      assert.match(run.stderr, /cannot reach PostgreSQL/);
    }
  });

  test('a database that does not exist exits 78 naming PG_DB', async () => {
    const env = quietEnv(dataDir, { PG_HOST: '127.0.0.1', PG_USER: 'postgres', PG_DB: `af_missing_${process.pid}` });
    const run = await cli(['migrate'], env);
    assertOneLine(run, 'PG_DB', 78);
    assert.match(run.stderr, /does not exist/);
  });

  test('an ignored per-service variable is a warning line, and progress is printed', async () => {
    const run = startPlatform(quietEnv(join(dataDir, 'warn'), { APP_PORT: '9999', PROMETHEUS_PORT: '9998', API_PORT: '9997' }));
    try {
      await waitForOutput(run, /AuditFlow is running/);
      const output = run.output();
      assert.match(output, /auditflow: warning: APP_PORT is ignored by the all-in-one start; set DASHBOARD_PORT/);
      assert.match(output, /auditflow: warning: PROMETHEUS_PORT is ignored/);
      assert.match(output, /auditflow: warning: API_PORT is ignored .*set NOTIFICATION_PORT/);
      const steps = ['checking that the ports are free', 'opening the alert store', 'migrating the alert store', 'applied migrations', 'starting notification-service', 'starting audit-log-analysis', 'starting audit-event-generator', 'starting event-audit-dashboard', 'AuditFlow is running', 'dashboard  '];
      let at = 0;
      for (const step of steps) {
        const found = output.indexOf(step, at);
        assert.ok(found >= at, `"${step}" missing or out of order in:\n${output}`);
        at = found;
      }
      assert.equal(await run.stop('SIGINT'), 0, run.output());
    } finally {
      await run.stop('SIGKILL');
    }
  });
});
