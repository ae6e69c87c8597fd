import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '@auditflow/common';
import { toListQuery, toStatsQuery } from '../src/api/alert-query.ts';
import { type ApiToken, BearerAuth } from '../src/api/bearer-auth.ts';
import { decodeCursor, encodeCursor } from '../src/api/cursor.ts';
import { toStatusChange } from '../src/api/status-body.ts';
import { loadNotificationConfig, parseTokenLine, resolveApiTokens } from '../src/config.ts';
import { classifyDbError } from '../src/db/db-errors.ts';
import { decodeAlert, UndeliverableAlertError } from '../src/ingest/alert-decoder.ts';
import { MicroBatcher } from '../src/ingest/micro-batcher.ts';
import { storableIp } from '../src/store/alert-record.ts';
import { makeAlert } from './helpers.ts';

describe('configuration', () => {
  test('defaults follow docs/configuration.md', () => {
    const config = loadNotificationConfig({});
    assert.equal(config.apiPort, 8000);
    assert.equal(config.apiHost, '0.0.0.0');
    assert.equal(config.alertQueue, 'audit_alerts');
    assert.equal(config.rabbit.prefetch, 500);
    assert.equal(config.retentionDays, 30);
    assert.equal(config.retentionIntervalSeconds, 3600);
    assert.equal(config.migrateOnStart, true);
    assert.equal(config.serviceName, 'notification-service');
    assert.deepEqual(config.apiTokens, []);
  });
  test('standalone mode requires the broker and PostgreSQL, naming the variables', () => {
    assert.throws(
      () => loadNotificationConfig({}, { standalone: true }),
      (error: unknown) =>
        error instanceof ConfigError && error.variables.includes('RABBITMQ_HOST') && error.variables.includes('PG_HOST'),
    );
    const ok = loadNotificationConfig({ RABBITMQ_HOST: 'mq', PG_HOST: 'db', PG_PASSWORD: 'p' }, { standalone: true });
    assert.equal(ok.postgres.url, 'postgres://auditflow:p@db:5432/auditflow');
  });
  test('bad values are reported by name', () => {
    assert.throws(
      () => loadNotificationConfig({ API_PORT: 'x', RETENTION_DAYS: '-1', MIGRATE_ON_START: 'maybe', RABBITMQ_PREFETCH: '0' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        ['API_PORT', 'RETENTION_DAYS', 'MIGRATE_ON_START', 'RABBITMQ_PREFETCH'].every((v) => error.variables.includes(v)),
    );
  });
  test('tokens come from API_TOKENS and API_TOKENS_FILE; plain ones get read and ack; an unreadable file is a ConfigError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'af-tokens-'));
    try {
      const file = join(dir, 'tokens');
      await writeFile(file, '# rotated 2025-07\ntoken-b\n\n  token-c  scopes=read,ack,admin name=dashboard\ntoken-d scopes=read\n');
      const config = loadNotificationConfig({ API_TOKENS: 'token-a, ', API_TOKENS_FILE: file });
      const tokens = await resolveApiTokens(config);
      assert.deepEqual(
        tokens.map((t) => [t.token, t.scopes.join(',')]),
        [
          ['token-a', 'read,ack'],
          ['token-b', 'read,ack'],
          ['token-c', 'read,ack,admin'],
          ['token-d', 'read'],
        ],
      );
      assert.equal(tokens[2]!.name, 'dashboard');
      assert.match(tokens[0]!.name, /^token-[0-9a-f]{8}$/);
      assert.notEqual(tokens[0]!.name, 'token-a');
      await assert.rejects(resolveApiTokens({ apiTokens: [], apiTokensFile: join(dir, 'missing') }), ConfigError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  test('a bad tokens-file line is a ConfigError naming the line, never the token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'af-tokens-'));
    try {
      const file = join(dir, 'tokens');
      await writeFile(file, 'good-token\nsecret-1 scopes=read,delete\nsecret-2 role=x\n');
      await assert.rejects(resolveApiTokens({ apiTokens: [], apiTokensFile: file }), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.deepEqual(error.variables, ['API_TOKENS_FILE', 'API_TOKENS_FILE']);
        assert.match(error.message, /line 2: scopes must be/);
        assert.match(error.message, /line 3: unknown field 'role'/);
        assert.doesNotMatch(error.message, /secret-/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal(typeof parseTokenLine('scopes=read'), 'string');
    assert.equal(typeof parseTokenLine('t scopes='), 'string');
    assert.deepEqual((parseTokenLine('t scopes=admin,admin') as ApiToken).scopes, ['admin']);
  });
  test('API_READ_REQUIRES_TOKEN is off by default (the original served reads without a token)', () => {
    assert.equal(loadNotificationConfig({}).readRequiresToken, false);
    assert.equal(loadNotificationConfig({ API_READ_REQUIRES_TOKEN: 'true' }).readRequiresToken, true);
    assert.throws(() => loadNotificationConfig({ API_READ_REQUIRES_TOKEN: 'sometimes' }), ConfigError);
  });
});

const token = (value: string, scopes: ApiToken['scopes'] = ['read', 'ack']): ApiToken => ({ token: value, name: value, scopes });

describe('bearer auth', () => {
  test('accepts only a configured token; with none configured nothing passes', () => {
    const auth = new BearerAuth([token('alpha-token'), token('beta-token')]);
    assert.equal(auth.verify('Bearer beta-token').name, 'beta-token');
    auth.verify('bearer alpha-token');
    for (const header of [undefined, '', 'Bearer', 'Bearer alpha', 'Bearer alpha-token-x', 'alpha-token', 'Basic alpha-token']) {
      assert.throws(() => auth.verify(header), { code: 'AF_UNAUTHORIZED' });
    }
    assert.throws(() => new BearerAuth([]).verify('Bearer '), { code: 'AF_UNAUTHORIZED' });
  });
  test('a token without the scope is forbidden; reads are open unless configured', () => {
    const auth = new BearerAuth([token('reader', ['read']), token('admin', ['admin'])]);
    assert.equal(auth.authorize('Bearer reader', 'read').name, 'reader');
    assert.throws(() => auth.authorize('Bearer reader', 'ack'), { code: 'AF_FORBIDDEN' });
    assert.throws(() => auth.authorize('Bearer admin', 'read'), { code: 'AF_FORBIDDEN' });
    assert.equal(auth.isOpen('read'), true);
    assert.equal(auth.isOpen(undefined), true);
    assert.equal(auth.isOpen('ack'), false);
    assert.equal(new BearerAuth([], { readRequiresToken: true }).isOpen('read'), false);
  });
});

describe('query conversion (after the route schema)', () => {
  test('defaults', () => {
    const query = toListQuery({});
    assert.equal(query.limit, 50);
    assert.equal(query.offset, 0);
  });
  test('lists, words and instants are normalised', () => {
    const query = toListQuery({
      severity: 'CRITICAL, WARNING,CRITICAL',
      status: 'open',
      q: 'Failed  LOGIN /etc/pass',
      since: '2025-07-01',
      until: '2025-07-01T12:00:00+0200',
    });
    assert.deepEqual(query.severity, ['CRITICAL', 'WARNING']);
    assert.deepEqual(query.text, ['failed', 'login', 'etc', 'pass']);
    assert.equal(query.since?.toISOString(), '2025-07-01T00:00:00.000Z');
    assert.equal(query.until?.toISOString(), '2025-07-01T10:00:00.000Z');
    assert.equal(toListQuery({ since: '2025-07-01T10:00' }).since?.toISOString(), '2025-07-01T10:00:00.000Z');
    assert.equal(toListQuery({ since: '2025-07-01t10:00z' }).since?.toISOString(), '2025-07-01T10:00:00.000Z');
  });
  test('a filter that could only be ignored is refused: q without a word, a list without a value', () => {
    for (const q of ['%', '%%', '--', '"*"']) assert.throws(() => toListQuery({ q }), { code: 'AF_INVALID_PARAMETER' });
    assert.throws(() => toListQuery({ severity: ',' }), { code: 'AF_INVALID_PARAMETER' });
    assert.throws(() => toListQuery({ status: 'open,closed' }), { code: 'AF_INVALID_PARAMETER' });
    assert.throws(() => toListQuery({ since: '2025-13-01T00:00:00Z' }), { code: 'AF_INVALID_PARAMETER' });
  });
  test('stats: default 24 h window ending now, bounded bucket count', () => {
    const now = new Date('2025-07-02T12:30:00Z');
    const stats = toStatsQuery({}, now);
    assert.equal(stats.until.toISOString(), now.toISOString());
    assert.equal(stats.since.toISOString(), '2025-07-01T12:30:00.000Z');
    assert.equal(stats.bucket, 'hour');
    assert.throws(() => toStatsQuery({ bucket: 'minute', since: '2025-01-01' }, now), { code: 'AF_INVALID_PARAMETER' });
  });
  test('cursors round-trip and forged ones are refused', () => {
    const position = { timestamp: '2025-07-02T20:00:00.123456Z', alertId: '3f0c1a2b-1111-4222-8333-444455556666' };
    assert.deepEqual(decodeCursor(encodeCursor(position)), position);
    for (const bad of ['', '!!', Buffer.from('{}').toString('base64url'), Buffer.from('["2025-07-02", "x"]').toString('base64url')]) {
      assert.throws(() => decodeCursor(bad), { code: 'AF_INVALID_CURSOR' });
    }
  });
  test('status body: null is absent; the actor defaults to the token name, then "api"', () => {
    assert.deepEqual(toStatusChange({ status: 'resolved' }, undefined), { status: 'resolved', actor: 'api' });
    assert.deepEqual(toStatusChange({ status: 'resolved', actor: null }, 'dashboard'), { status: 'resolved', actor: 'dashboard' });
    assert.deepEqual(toStatusChange({ status: 'open', note: null, actor: 'eve' }, 'dashboard'), { status: 'open', actor: 'eve' });
    assert.equal(toStatusChange({ status: 'open', note: 'a\ud800b' }, undefined).note, 'a\ufffdb');
  });
});

describe('alert decoding', () => {
  test('valid alerts map onto the columns; the original double zone designator (+00:00Z) is accepted', () => {
    const record = decodeAlert(Buffer.from(JSON.stringify(makeAlert({ timestamp: '2025-07-02T20:00:00+00:00Z' }))));
    assert.equal(record.timestamp, '2025-07-02T20:00:00+00:00');
    assert.equal(record.rule_id, 'ANLY-SEC-001');
    assert.equal(record.count, 1);
    assert.equal(record.first_seen, record.timestamp);
    assert.match(record.fingerprint, /^[0-9a-f]{32}$/);
  });
  test('each kind of poison has its reason', () => {
    const reasonOf = (body: Buffer) => {
      try {
        decodeAlert(body);
        return 'none';
      } catch (error) {
        return error instanceof UndeliverableAlertError ? error.reason : 'other';
      }
    };
    assert.equal(reasonOf(Buffer.from('{')), 'invalid_json');
    assert.equal(reasonOf(Buffer.from([0xc3, 0x28])), 'invalid_utf8');
    assert.equal(reasonOf(Buffer.alloc(300 * 1024, 0x20)), 'oversized');
    assert.equal(reasonOf(Buffer.from('{"alert_id":"x"}')), 'schema');
    assert.equal(reasonOf(Buffer.from(JSON.stringify(makeAlert({ timestamp: '2025-02-30T25:00:00Z' })))), 'schema');
  });
  test('only real IP addresses are stored', () => {
    assert.equal(storableIp('192.168.1.5'), '192.168.1.5');
    assert.equal(storableIp('::1'), '::1');
    assert.equal(storableIp('10.0.0.0/8'), '10.0.0.0/8');
    for (const bad of ['N/A', '', null, undefined, '999.1.1.1', '10.0.0.0/33', 'fe80::1%eth0', '1.2.3.4/8/9', 'host']) {
      assert.equal(storableIp(bad), null, String(bad));
    }
  });
  test('SQLSTATE classes decide retry or dead-letter', () => {
    assert.equal(classifyDbError({ code: '22P02' }), 'data');
    assert.equal(classifyDbError({ code: '23502' }), 'data');
    assert.equal(classifyDbError({ code: '57P01' }), 'transient');
    assert.equal(classifyDbError({ code: '08006' }), 'transient');
    assert.equal(classifyDbError(new Error('Connection terminated unexpectedly')), 'transient');
    assert.equal(classifyDbError({ code: '42P01' }), 'unknown');
  });
});

describe('micro-batcher', () => {
  test('flushes at maxItems, or after the delay for a partial batch; each caller gets its own result', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number, string>({
      maxItems: 3,
      maxDelayMs: 5,
      flush: async (items) => {
        batches.push(items);
        return items.map((n) => `r${n}`);
      },
    });
    const results = await Promise.all([1, 2, 3, 4].map((n) => batcher.submit(n)));
    assert.deepEqual(results, ['r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(batches, [[1, 2, 3], [4]]);
  });
  test('a failed batch rejects every caller in it, and later batches still run', async () => {
    let fail = true;
    const batcher = new MicroBatcher<number, number>({
      maxItems: 2,
      maxDelayMs: 1,
      flush: async (items) => {
        if (fail) throw new Error('down');
        return items;
      },
    });
    const first = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    assert.deepEqual(
      first.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    fail = false;
    assert.equal(await batcher.submit(3), 3);
  });
  test('while a batch is being written, a partial one waits for it rather than for the delay', async () => {
    const batches: number[][] = [];
    let release = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const batcher = new MicroBatcher<number, number>({
      maxItems: 3,
      maxDelayMs: 1,
      maxConcurrent: 2,
      flush: async (items) => {
        batches.push(items);
        if (batches.length === 1) await gate;
        return items;
      },
    });
    const all = [1, 2, 3, 4, 5].map((n) => batcher.submit(n));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(batches, [[1, 2, 3]]);
    assert.equal(batcher.pending, 2);
    release();
    assert.deepEqual(await Promise.all(all), [1, 2, 3, 4, 5]);
    assert.deepEqual(batches, [
      [1, 2, 3],
      [4, 5],
    ]);
  });
  test('never more than maxConcurrent batches in flight; flushAll drains everything', async () => {
    let inFlight = 0;
    let peak = 0;
    const batcher = new MicroBatcher<number, number>({
      maxItems: 2,
      maxDelayMs: 1,
      maxConcurrent: 2,
      flush: async (items) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return items;
      },
    });
    const all = Array.from({ length: 21 }, (_, i) => batcher.submit(i));
    await batcher.flushAll();
    assert.equal((await Promise.all(all)).length, 21);
    assert.equal(peak, 2);
    assert.equal(batcher.pending, 0);
  });
});
