import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Counter,
  createHttpServer,
  createMetricsServer,
  createRegistry,
  HealthRegistry,
  METRICS_CONTENT_TYPE,
  AlertNotFoundError,
  uuidV5,
} from '../src/index.ts';
import { silentLogger } from './support.ts';

test('readiness is the live answer of every check, and draining fails it', async () => {
  const health = new HealthRegistry({ timeoutMs: 200 });
  let redisUp = true;
  health.register('redis', () => {
    if (!redisUp) throw new Error('connection refused');
  });
  health.register('slow', () => new Promise((resolve) => setTimeout(resolve, 5)));
  const app = createHttpServer({ logger: silentLogger, health });
  let res = await app.inject('/readyz');
  assert.equal(res.statusCode, 200);
  redisUp = false;
  res = await app.inject('/readyz');
  assert.equal(res.statusCode, 503);
  assert.equal(res.json().checks.redis.error, 'connection refused');
  redisUp = true;
  health.startDraining();
  res = await app.inject('/readyz');
  assert.equal(res.statusCode, 503);
  assert.equal((await app.inject('/healthz')).statusCode, 200, 'liveness ignores dependencies');
  await app.close();
});

test('a check that hangs is reported as timed out instead of hanging the probe', async () => {
  const health = new HealthRegistry({ timeoutMs: 50 });
  health.register('stuck', () => new Promise(() => undefined));
  const readiness = await health.readiness();
  assert.equal(readiness.ready, false);
  assert.match(readiness.checks['stuck']!.error!, /timed out/);
});

test('errors become problem+json with a stable code; unknown routes too', async () => {
  const app = createHttpServer({ logger: silentLogger, health: new HealthRegistry() });
  app.get('/thing', async () => {
    throw new AlertNotFoundError('3f0c2a9e-8d1b-4c6e-9f7a-1b2c3d4e5f60');
  });
  app.post('/echo', async (request) => request.body);
  await app.ready();
  let res = await app.inject('/thing');
  assert.equal(res.statusCode, 404);
  assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  assert.equal(res.json().code, 'AF_ALERT_NOT_FOUND');
  res = await app.inject('/nowhere');
  assert.equal(res.json().code, 'AF_ROUTE_NOT_FOUND');
  res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{bad' });
  assert.equal(res.statusCode, 400);
  assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
  res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'text/csv' }, payload: 'a,b' });
  assert.equal(res.statusCode, 415);
  // fastify's own FST_ERR_CTP_* codes are mapped onto the registry: one 415 code everywhere.
  assert.equal(res.json().code, 'AF_UNSUPPORTED_MEDIA_TYPE');
  assert.ok(res.headers['x-correlation-id']);
  await app.close();
});

test('/metrics is Prometheus text with the service label', async () => {
  const registry = createRegistry('unit', { defaultMetrics: false });
  new Counter({ name: 'unit_things_total', help: 'things', registers: [registry] }).inc(3);
  const app = createMetricsServer({ logger: silentLogger, registry });
  const res = await app.inject('/metrics');
  assert.equal(res.headers['content-type'], METRICS_CONTENT_TYPE);
  assert.match(res.body, /unit_things_total\{service="unit"\} 3/);
  await app.close();
});

test("/metrics carries the process's memory limit when it has one, and no such series when it has none", async () => {
  const limited = await createRegistry('unit', { memoryLimitBytes: () => 256 * 1048576 }).metrics();
  assert.match(limited, /^auditflow_memory_limit_bytes\{service="unit"\} 268435456$/m);
  assert.match(limited, /^process_resident_memory_bytes\{service="unit"\} \d+/m, 'beside the resident memory the alert divides by it');
  const unlimited = await createRegistry('unit', { memoryLimitBytes: () => undefined }).metrics();
  assert.doesNotMatch(unlimited, /auditflow_memory_limit_bytes/);
  assert.doesNotMatch(await createRegistry('unit', { defaultMetrics: false, memoryLimitBytes: () => 1 }).metrics(), /auditflow_memory_limit_bytes/);
});

test('uuidV5 matches the RFC 4122 reference vector and is stable', () => {
  assert.equal(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  assert.equal(uuidV5('a|b'), uuidV5('a|b'));
  assert.notEqual(uuidV5('a|b'), uuidV5('a|c'));
});
