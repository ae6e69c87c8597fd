import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import Fastify from 'fastify';
import pino from 'pino';
import { createHttpServer, HealthRegistry, StartupError, startHttpService } from '../src/index.ts';

const logger = pino({ level: 'silent' });

test('startHttpService binds every listener, reports URLs and stops in order once', async () => {
  const health = new HealthRegistry();
  const app = createHttpServer({ logger, health });
  const metricsApp = Fastify();
  const order: string[] = [];
  const service = await startHttpService({
    name: 'unit',
    host: '127.0.0.1',
    health,
    listeners: [
      { name: 'http', app, port: 0, variable: 'APP_PORT', alsoServes: { openapi: '/openapi.json' } },
      { name: 'metrics', app: metricsApp, port: 0, variable: 'PROMETHEUS_PORT', path: '/metrics' },
    ],
    drain: () => {
      order.push(`drain ready=${app.server.listening}`);
    },
    close: () => {
      order.push(`close listening=${app.server.listening || metricsApp.server.listening}`);
    },
  });
  assert.equal(service.urls['http'], `http://127.0.0.1:${service.ports['http']}`);
  assert.equal(service.urls['openapi'], `http://127.0.0.1:${service.ports['http']}/openapi.json`);
  assert.equal(service.urls['metrics'], `http://127.0.0.1:${service.ports['metrics']}/metrics`);
  assert.equal((await fetch(`${service.urls['http']}/healthz`)).status, 200);
  await Promise.all([service.stop(), service.stop()]);
  assert.deepEqual(order, ['drain ready=true', 'close listening=false']);
  assert.equal((await health.readiness()).draining, true);
});

test('a busy port is a StartupError naming its variable; the bound servers close and abort runs', async () => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  const port = (busy.address() as { port: number }).port;
  const first = Fastify();
  let aborted = false;
  try {
    await assert.rejects(
      startHttpService({
        name: 'unit',
        host: '127.0.0.1',
        health: new HealthRegistry(),
        listeners: [
          { name: 'http', app: first, port: 0, variable: 'APP_PORT' },
          { name: 'metrics', app: Fastify(), port, variable: 'PROMETHEUS_PORT' },
        ],
        abort: () => {
          aborted = true;
        },
      }),
      (error: unknown) =>
        error instanceof StartupError && error.code === 'AF_PORT_IN_USE' && error.variable === 'PROMETHEUS_PORT' && error.exitCode === 78,
    );
    assert.equal(first.server.listening, false);
    assert.equal(aborted, true);
  } finally {
    await new Promise((resolve) => busy.close(resolve));
  }
});
