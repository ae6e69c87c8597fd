// The server configuration the charts ship, exercised on real servers of this machine:
// the RabbitMQ definitions are imported into a throw-away vhost and every service user's
// rights are tried over AMQP; the Redis config boots redis-server; the PostgreSQL init
// script runs against the local PostgreSQL. Everything created is removed afterwards.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';
import { Connection } from 'rabbitmq-client';
import type { Channel } from 'rabbitmq-client';
import { CHART, type Rendered, find, helmTemplate } from './lib/render.ts';
import { freePort } from '../support/processes.ts';
import { rabbitmqctl } from '../support/rabbitmq.ts';

const run = promisify(execFile);
const ID = randomBytes(4).toString('hex');
let workDir: string;

before(() => {
  workDir = mkdtempSync(join(tmpdir(), 'af-servers-'));
});
after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

function decoded(r: Rendered, secret: string, key: string): string {
  const value = find(r.objects, 'Secret', secret).data?.[key];
  assert.ok(value, `${secret}[${key}]`);
  return Buffer.from(value, 'base64').toString('utf8');
}

describe('RabbitMQ definitions on a real broker', () => {
  const vhost = `af-defs-${ID}`;
  const names = { admin: `af-admin-${ID}`, generator: `af-gen-${ID}`, analysis: `af-ana-${ID}`, notification: `af-not-${ID}` };
  let passwords: Record<string, string>;
  const connections: Connection[] = [];

  before(async () => {
    const r = await helmTemplate({
      chart: join(CHART, 'charts', 'rabbitmq'),
      release: 'defs',
      set: [
        `definitions.vhost=${vhost}`,
        `auth.adminUsername=${names.admin}`,
        `users.generator.name=${names.generator}`,
        `users.analysis.name=${names.analysis}`,
        `users.notification.name=${names.notification}`,
      ],
    });
    passwords = {
      generator: decoded(r, 'defs-rabbitmq', `${names.generator}-password`),
      analysis: decoded(r, 'defs-rabbitmq', `${names.analysis}-password`),
      notification: decoded(r, 'defs-rabbitmq', `${names.notification}-password`),
    };
    // rabbitmqctl drops to the broker's user, so the file (throw-away users only) must be readable by it.
    const dir = mkdtempSync(join(workDir, 'defs-'));
    chmodSync(workDir, 0o755);
    chmodSync(dir, 0o755);
    const file = join(dir, 'definitions.json');
    writeFileSync(file, decoded(r, 'defs-rabbitmq', 'definitions.json'), { mode: 0o644 });
    try {
      await rabbitmqctl(['import_definitions', file]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  after(async () => {
    // Deleting the vhost below also drops any connection a failed assertion left open.
    await Promise.all(connections.map((c) => Promise.race([c.close().catch(() => {}), new Promise((r) => setTimeout(r, 2000))])));
    const problems: string[] = [];
    await rabbitmqctl(['delete_vhost', vhost]).catch((e: Error) => problems.push(e.message));
    for (const user of Object.values(names)) await rabbitmqctl(['delete_user', user]).catch((e: Error) => problems.push(e.message));
    assert.deepEqual(problems, [], 'cleanup failed');
  });

  async function channel(role: 'generator' | 'analysis' | 'notification'): Promise<Channel> {
    const conn = new Connection({
      hostname: '127.0.0.1',
      port: 5672,
      username: names[role],
      password: passwords[role],
      vhost,
      retryLow: 100,
      retryHigh: 200,
      connectionTimeout: 5000,
    });
    conn.on('error', () => {});
    connections.push(conn);
    const ch = await conn.acquire();
    await ch.confirmSelect();
    return ch;
  }

  /** Runs one AMQP operation on a fresh channel; returns the refusal code, or 'ok'. */
  async function attempt(role: 'generator' | 'analysis' | 'notification', op: (ch: Channel) => Promise<unknown>): Promise<string> {
    const ch = await channel(role);
    try {
      await op(ch);
      await ch.close();
      return 'ok';
    } catch (error) {
      return (error as { code?: string }).code ?? String(error);
    }
  }

  const declare = (queue: string) => (ch: Channel) => ch.queueDeclare({ queue, durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const publish = (queue: string) => (ch: Channel) => ch.basicPublish({ routingKey: queue }, 'probe');
  const get = (queue: string) => (ch: Channel) => ch.basicGet({ queue });

  test('the definitions declared quorum queues and attached the policies', async () => {
    const queues = await rabbitmqctl(['list_queues', '-p', vhost, 'name', 'type', 'policy', '--no-table-headers']);
    const rows = Object.fromEntries(
      queues
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .map(([name, type, policy]) => [name, { type, policy }]),
    );
    assert.deepEqual(rows['audit_events'], { type: 'quorum', policy: 'auditflow-audit_events' });
    assert.deepEqual(rows['audit_alerts'], { type: 'quorum', policy: 'auditflow-audit_alerts' });
    assert.deepEqual(rows['audit_events.dlq'], { type: 'quorum', policy: 'auditflow-dead-letters' });
    assert.deepEqual(rows['audit_alerts.dlq'], { type: 'quorum', policy: 'auditflow-dead-letters' });
  });

  // Each service's broker adapter declares every queue with its dead-letter queue at start
  // (issue 17: the chart refused audit_events.dlq to the generator, audit_alerts.dlq to analysis).
  test('the generator can declare its queue and dead-letter queue and publish audit events, and nothing else', async () => {
    assert.equal(await attempt('generator', declare('audit_events')), 'ok');
    assert.equal(await attempt('generator', declare('audit_events.dlq')), 'ok');
    assert.equal(await attempt('generator', publish('audit_events')), 'ok');
    assert.equal(await attempt('generator', declare('audit_alerts')), 'ACCESS_REFUSED');
    assert.equal(await attempt('generator', get('audit_events')), 'ACCESS_REFUSED');
  });

  test('analysis reads audit events, declares and writes alerts and both dead-letter queues, and cannot read alerts', async () => {
    assert.equal(await attempt('analysis', get('audit_events')), 'ok');
    assert.equal(await attempt('analysis', declare('audit_alerts')), 'ok');
    assert.equal(await attempt('analysis', declare('audit_events.dlq')), 'ok');
    assert.equal(await attempt('analysis', publish('audit_alerts')), 'ok');
    assert.equal(await attempt('analysis', get('audit_alerts')), 'ACCESS_REFUSED');
    assert.equal(await attempt('analysis', declare('audit_alerts.dlq')), 'ok');
    assert.equal(await attempt('analysis', declare('audit_events.other')), 'ACCESS_REFUSED');
  });

  test('notification reads alerts and declares its dead letters, and cannot read events', async () => {
    assert.equal(await attempt('notification', get('audit_alerts')), 'ok');
    assert.equal(await attempt('notification', declare('audit_alerts.dlq')), 'ok');
    assert.equal(await attempt('notification', get('audit_events')), 'ACCESS_REFUSED');
    assert.equal(await attempt('notification', declare('audit_events')), 'ACCESS_REFUSED');
  });

  test('a message redelivered past the delivery limit is dead-lettered to audit_events.dlq', async () => {
    const producer = await channel('generator');
    await producer.basicPublish({ routingKey: 'audit_events', messageId: `poison-${ID}` }, '{"poison":true}');
    const consumer = await channel('analysis');
    // Drain the probe message of the earlier test, then bounce the poison one until the broker gives up on it.
    for (let i = 0; i < 20; i++) {
      const msg = await consumer.basicGet({ queue: 'audit_events' });
      if (!msg) break;
      if (msg.messageId === `poison-${ID}`) consumer.basicNack({ deliveryTag: msg.deliveryTag, requeue: true });
      else consumer.basicAck({ deliveryTag: msg.deliveryTag });
    }
    const deadline = Date.now() + 10_000;
    let depth = '0';
    while (Date.now() < deadline) {
      depth = (await rabbitmqctl(['list_queues', '-p', vhost, 'name', 'messages', '--no-table-headers']))
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .find(([name]) => name === 'audit_events.dlq')?.[1] ?? '0';
      if (depth !== '0') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(depth, '1');
  });
});


describe('Redis configuration', () => {
  test('redis-server boots from the chart config with a password, and the probe command passes', async () => {
    const r = await helmTemplate({ chart: join(CHART, 'charts', 'redis'), release: 'cfg' });
    const conf = find(r.objects, 'ConfigMap', 'cfg-redis-config').data?.['redis.conf'] ?? '';
    const dir = mkdtempSync(join(workDir, 'redis-'));
    const port = await freePort();
    // Only the port and data directory differ from the pod; everything else is the shipped file.
    writeFileSync(join(dir, 'redis.conf'), conf.replace(/^port 6379$/m, `port ${port}`).replace(/^dir \/data$/m, `dir ${dir}`));
    const password = randomBytes(12).toString('hex');
    await run('redis-server', [join(dir, 'redis.conf'), '--requirepass', password, '--daemonize', 'yes', '--pidfile', join(dir, 'redis.pid')]);
    const cli = (...args: string[]) => run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { env: { ...process.env, REDISCLI_AUTH: password } });
    try {
      let pong = '';
      for (let i = 0; i < 40 && pong !== 'PONG'; i++) {
        pong = (await cli('ping').catch(() => ({ stdout: '' }))).stdout.trim();
        if (pong !== 'PONG') await new Promise((res) => setTimeout(res, 100));
      }
      assert.equal(pong, 'PONG');
      assert.equal((await cli('config', 'get', 'maxmemory-policy')).stdout.split('\n')[1], 'noeviction');
      assert.equal((await cli('config', 'get', 'appendonly')).stdout.split('\n')[1], 'yes');
      const unauthenticated = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'ping']);
      assert.match(unauthenticated.stdout, /NOAUTH/);
    } finally {
      await cli('shutdown', 'nosave').catch(() => {});
    }
  });
});

describe('PostgreSQL init script', () => {
  const user = `af_init_${ID}`;
  const database = `af_init_db_${ID}`;
  const admin = () => new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });

  after(async () => {
    const c = admin();
    await c.connect();
    try {
      await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS "${user}"`);
    } finally {
      await c.end();
    }
  });

  test('creates the application role as a non-superuser owning its database', async () => {
    const r = await helmTemplate({ chart: join(CHART, 'charts', 'postgresql'), release: 'init' });
    const script = find(r.objects, 'ConfigMap', 'init-postgresql-init').data?.['10-auditflow.sh'] ?? '';
    const file = join(workDir, '10-auditflow.sh');
    writeFileSync(file, script);
    await run('sh', [file], {
      env: {
        PATH: process.env['PATH'] ?? '',
        PGHOST: '127.0.0.1',
        POSTGRES_USER: 'postgres',
        AUDITFLOW_DB_USER: user,
        AUDITFLOW_DB_NAME: database,
        AUDITFLOW_DB_PASSWORD: randomBytes(12).toString('hex'),
      },
    });
    const c = admin();
    await c.connect();
    try {
      const role = await c.query('SELECT rolsuper, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = $1', [user]);
      assert.deepEqual(role.rows[0], { rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true });
      const owner = await c.query('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [database]);
      assert.equal(owner.rows[0]?.owner, user);
    } finally {
      await c.end();
    }
  });
});
