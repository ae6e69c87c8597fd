// The auditflow CLI as a user runs it: a child process, real PostgreSQL and RabbitMQ.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Connection } from 'rabbitmq-client';
import { deleteQueues, RABBITMQ_URL, uniqueName } from '../../common/test/support.ts';
import { createTestDatabase } from '../../../tests/support/databases.ts';
import { freePort, track, waitForHttp } from '../../../tests/support/processes.ts';

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const DEFAULT_RULES = fileURLToPath(new URL('../../audit-log-analysis/rules/default.yaml', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with only the given variables (plus PATH), so the machine's environment cannot leak in. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=source', CLI, ...args],
      { env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('auditflow CLI', () => {
  test('--help names every command and the all-in-one defaults', async () => {
    for (const args of [['--help'], ['help'], []]) {
      const run = await cli(args);
      assert.equal(run.code, 0, run.stderr);
      for (const text of ['auditflow start [--only <service>]', 'auditflow generate --scenario', 'auditflow rules validate <file>', 'auditflow migrate', 'DASHBOARD_PORT 8080']) {
        assert.ok(run.stdout.includes(text), `${args.join(' ')}: missing "${text}"`);
      }
    }
  });

  test('usage errors exit 2 with a pointer to --help', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown command "frobnicate"/],
      [['start', '--only', 'everything'], /--only must be one of audit-event-generator/],
      [['generate', '--scenario', 'brute-force', '--rate', '0'], /--rate must be a positive number/],
      [['generate'], /--scenario <name> or --list/],
      [['generate', '--scenario', 'no-such-thing'], /unknown scenario "no-such-thing"/],
      [['rules', 'check', 'x.yaml'], /usage: auditflow rules validate <file>/],
      [['start', '--colour'], /Unknown option '--colour'/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, message);
      assert.match(run.stderr, /see auditflow --help/);
    }
  });

  test('rules validate accepts the shipped rules and prints file:line:col for every problem', async () => {
    const good = await cli(['rules', 'validate', DEFAULT_RULES]);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /OK, \d+ rules \(\d+ detection, \d+ correlation\)/);

    const dir = mkdtempSync(join(tmpdir(), 'af-cli-rules-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(
        file,
        [
          'title: Broken',
          'id: BAD-001',
          'name: broken',
          'level: high',
          'detection:',
          '  selection:',
          '    event_type: user_login',
          '  condition: selection and nothing',
          '',
        ].join('\n'),
      );
      const bad = await cli(['rules', 'validate', file]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: .+`));
      assert.match(bad.stderr, /problems? in /);
      const missing = await cli(['rules', 'validate', join(dir, 'absent.yaml')]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /absent\.yaml/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('migrate applies the schema once on PostgreSQL and is a no-op the second time', async () => {
    const db = await createTestDatabase(uniqueName('cli_migrate'));
    try {
      const first = await cli(['migrate'], { DATABASE_URL: db.url });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /applied migrations 1(, \d+)+$/m);
      const second = await cli(['migrate'], { DATABASE_URL: db.url });
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, /schema is up to date/);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'alerts'");
        assert.equal(rows[0]!.n, 1);
      } finally {
        await client.end();
      }
    } finally {
      await db.drop();
    }
  });

  test('migrate without a database configures the embedded PGlite in DATA_DIR', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-cli-pglite-'));
    try {
      const run = await cli(['migrate'], { DATA_DIR: dir });
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /applied migrations 1(, \d+)+$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bad configuration exits 78 naming the variable', async () => {
    const run = await cli(['migrate'], { DATABASE_URL: 'mysql://nope' });
    assert.equal(run.code, 78, `${run.stdout}${run.stderr}`);
    assert.match(run.stdout + run.stderr, /DATABASE_URL/);
  });

  test('start refuses a bad OUTPUTS_FILE before anything starts: exit 78 with file:line:col', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-cli-outputs-'));
    try {
      const file = join(dir, 'outputs.yaml');
      writeFileSync(file, 'outputs:\n  - { name: am, type: alertmanager, url: "http://127.0.0.1:9" }\nroute:\n  receiver: nobody\n');
      const run = await cli(['start'], { OUTPUTS_FILE: file, DATA_DIR: dir });
      assert.equal(run.code, 78, `${run.stdout}${run.stderr}`);
      assert.match(run.stdout + run.stderr, /OUTPUTS_FILE/);
      assert.ok((run.stdout + run.stderr).includes(`${file}:4:13`), run.stdout + run.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('start refuses a bad HOSTS_FILE before anything starts: exit 78 with file:line:col', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-cli-hosts-'));
    try {
      const file = join(dir, 'hosts.yaml');
      writeFileSync(file, 'hosts:\n  pi3:\n    owner: jdev\n    shoe_size: 44\n');
      const run = await cli(['start'], { HOSTS_FILE: file, DATA_DIR: dir });
      assert.equal(run.code, 78, `${run.stdout}${run.stderr}`);
      assert.ok((run.stdout + run.stderr).includes(`HOSTS_FILE: ${file}:4:5: unknown key 'shoe_size'`), run.stdout + run.stderr);
      assert.doesNotMatch(run.stdout + run.stderr, /opening the alert store/, 'nothing was opened');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('start refuses a bad exceptions file or rules file before anything starts: exit 78 naming the variable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-cli-exceptions-'));
    try {
      // The all-in-one's exceptions file lives in DATA_DIR; an entry for an unknown rule is refused.
      writeFileSync(
        join(dir, 'exceptions.yaml'),
        'exceptions:\n  - id: scanner\n    rule_id: ANLY-NOPE-999\n    fields: { host: pi-1 }\n    author: dana\n    reason: test\n    created_at: 2026-12-01T00:00:00Z\n',
      );
      const exceptions = await cli(['start'], { DATA_DIR: dir });
      assert.equal(exceptions.code, 78, `${exceptions.stdout}${exceptions.stderr}`);
      assert.match(exceptions.stdout + exceptions.stderr, /EXCEPTIONS_FILE: .*exceptions\.yaml:\d+:\d+: .*ANLY-NOPE-999/);
      assert.doesNotMatch(exceptions.stdout + exceptions.stderr, /opening the alert store|starting notification-service/, 'nothing was opened');
      const rules = join(dir, 'rules.yaml');
      writeFileSync(rules, 'rules:\n  - id: BROKEN\n    detection: [\n');
      const broken = await cli(['start'], { DATA_DIR: dir, RULES_FILE: rules });
      assert.equal(broken.code, 78, `${broken.stdout}${broken.stderr}`);
      assert.match(broken.stdout + broken.stderr, /RULES_FILE: .*rules\.yaml:\d+:\d+/);
      assert.doesNotMatch(broken.stdout + broken.stderr, /opening the alert store/, 'nothing was opened');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('generate publishes a scenario to RabbitMQ and names the rule it should trigger', async () => {
    const queue = uniqueName('cli-generate');
    try {
      const list = await cli(['generate', '--list']);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /brute-force\s+→ ANLY-SEC-001/);
      const run = await cli(['generate', '--scenario', 'brute-force', '--rate', '200'], { RABBITMQ_URL, RABBITMQ_QUEUE: queue });
      assert.equal(run.code, 0, run.stderr);
      const published = Number(/published (\d+) events of brute-force/.exec(run.stdout)?.[1]);
      assert.ok(published >= 3, run.stdout);
      assert.match(run.stdout, /expect ANLY-SEC-001/);
      const connection = new Connection(RABBITMQ_URL);
      try {
        const { messageCount } = await connection.queueDeclare({ queue, passive: true });
        assert.equal(messageCount, published);
      } finally {
        await connection.close();
      }
    } finally {
      await deleteQueues([queue]);
    }
  });

  test('start --only runs one service as its container does, ready on its ports, and drains on SIGTERM', async () => {
    const queue = uniqueName('cli-only');
    const [appPort, metricsPort] = [await freePort(), await freePort()];
    const service = track(
      spawn(process.execPath, ['--conditions=source', CLI, 'start', '--only', 'audit-event-generator'], {
        env: {
          PATH: process.env['PATH'] ?? '',
          LOG_LEVEL: 'info',
          RABBITMQ_URL,
          RABBITMQ_QUEUE: queue,
          APP_PORT: String(appPort),
          PROMETHEUS_PORT: String(metricsPort),
          EVENTS_PER_SECOND: '0',
          SCENARIO_INTERVAL_SECONDS: '0',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    try {
      await waitForHttp(`http://127.0.0.1:${appPort}/readyz`, 30_000);
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      assert.equal(await service.stop('SIGTERM'), 0, service.output());
    } finally {
      await service.stop('SIGKILL');
      await deleteQueues([queue]);
    }
  });
});
