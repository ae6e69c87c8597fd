import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { MemoryBroker } from '@auditflow/common';
import { RABBITMQ_URL, silentLogger, waitFor } from '../../common/test/support.ts';
import { TcpProxy } from '../../common/test/tcp-proxy.ts';
import { cleanup, TestPublisher, testNames } from '../../audit-log-analysis/test/integration-support.ts';
import { loadIngestConfig } from '../src/config.ts';
import { startIngest } from '../src/start-ingest.ts';
import { auditEventList, linuxLines, octetCounted, rfc5424 } from './samples.ts';
import { type RunningIngest, startTestIngest } from './support.ts';

/**
 * Nothing is acknowledged before RabbitMQ confirmed it: with the broker cut
 * off (a TCP relay in front of the real one), the webhook gets 503 with
 * Retry-After, a syslog TCP connection is held (not read on), and once the
 * broker is back every held line is published exactly once.
 */
describe('back-pressure while RabbitMQ is unreachable', () => {
  const names = testNames('ingest-outage');
  const publisher = new TestPublisher();
  let proxy: TcpProxy;
  let ingest: RunningIngest;
  let socket: Socket;
  const lines = linuxLines({ brute: '203.0.113.40', spray: '198.51.100.40', admin: '192.0.2.40' });

  before(async () => {
    proxy = await TcpProxy.start('127.0.0.1', new URL(RABBITMQ_URL).port ? Number(new URL(RABBITMQ_URL).port) : 5672);
    const url = new URL(RABBITMQ_URL);
    url.host = `127.0.0.1:${proxy.port}`;
    ingest = await startTestIngest(names, {}, url.toString());
    await waitFor(async () => ((await ingest.handle.app.inject({ url: '/readyz' })).statusCode === 200 ? true : undefined), 15_000, 'readiness');
  });

  after(async () => {
    socket?.destroy();
    await ingest.stop();
    await proxy.close();
    await publisher.close();
    await cleanup(names);
  });

  test('the webhook is told to come back later, and readiness fails', async () => {
    proxy.cut();
    await waitFor(() => (ingest.broker.isConnected() ? undefined : true), 10_000, 'the broker to notice');
    const response = await fetch(`${ingest.handle.urls['http']}/k8s/audit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(auditEventList(new Date(), 'gina').body),
    });
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '5');
    assert.equal(((await response.json()) as { code: string }).code, 'AF_BROKER_UNAVAILABLE');
    assert.equal((await ingest.handle.app.inject({ url: '/readyz' })).statusCode, 503);
  });

  test('a syslog TCP sender is held, and every line arrives exactly once after the broker is back', async () => {
    const payload = lines.map((line) => octetCounted(rfc5424(line, 'pi-held', new Date()))).join('');
    socket = connect(ingest.handle.syslog!.tcpPort!, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(payload);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const publishedBefore = (await ingest.handle.metrics.published.get()).values.reduce((n, v) => n + v.value, 0);
    assert.equal(publishedBefore, 0);
    proxy.restore();
    await waitFor(async () => ((await publisher.messageCount(names.queue)) >= 30 ? true : undefined), 30_000, 'the held lines');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await publisher.messageCount(names.queue), 30);
    // The connection is read again: one more line goes through.
    socket.write(octetCounted(rfc5424(lines[0]!, 'pi-held', new Date())));
    await waitFor(async () => ((await publisher.messageCount(names.queue)) === 31 ? true : undefined), 10_000, 'the line after');
  });
});

describe('limits', () => {
  let handle: Awaited<ReturnType<typeof startIngest>>;
  const broker = new MemoryBroker({ logger: silentLogger });
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });

  before(async () => {
    // Publishes wait on a gate, so the first request stays in flight while the second arrives.
    const publish = broker.publish.bind(broker);
    broker.publish = async (queue, message) => {
      await gate;
      return publish(queue, message);
    };
    const config = loadIngestConfig({
      APP_PORT: '0',
      PROMETHEUS_PORT: '0',
      SYSLOG_ENABLED: 'false',
      INGEST_AUTH: 'none',
      INGEST_MAX_IN_FLIGHT: '20',
      INGEST_MAX_BATCH_EVENTS: '50',
      INGEST_MAX_BODY_BYTES: '65536',
      RETRY_AFTER_SECONDS: '7',
      LOG_LEVEL: 'silent',
    });
    handle = await startIngest({ config: { ...config, host: '127.0.0.1' }, logger: silentLogger, broker });
  });

  after(async () => {
    release();
    await handle.stop();
    await broker.close();
  });

  test('413 for a body over INGEST_MAX_BODY_BYTES and a batch over INGEST_MAX_BATCH_EVENTS', async () => {
    const big = await handle.app.inject({ method: 'POST', url: '/k8s/audit', headers: { 'content-type': 'application/x-ndjson' }, payload: 'x'.repeat(70_000) });
    assert.equal(big.statusCode, 413);
    assert.match(String(big.headers['content-type']), /problem\+json/);
    const list = auditEventList(new Date(), 'hank').body;
    const many = { ...list, items: Array.from({ length: 51 }, (_, i) => ({ ...(list['items'] as Record<string, unknown>[])[2], auditID: `id-${i}` })) };
    const batch = await handle.app.inject({ method: 'POST', url: '/k8s/audit', payload: many });
    assert.equal(batch.statusCode, 413);
    assert.equal(batch.json().code, 'AF_BATCH_TOO_LARGE');
  });

  test('429 with Retry-After while too many events await a confirm; the held request answers 200 once confirmed', async () => {
    const list = auditEventList(new Date(), 'ivan').body;
    const first = handle.app.inject({ method: 'POST', url: '/k8s/audit', payload: list });
    await waitFor(() => (handle.pipeline.inFlight > 0 ? true : undefined), 5000, 'the first batch in flight');
    const second = await handle.app.inject({ method: 'POST', url: '/k8s/audit', payload: list });
    assert.equal(second.statusCode, 429);
    assert.equal(second.headers['retry-after'], '7');
    assert.equal(second.json().code, 'AF_INGEST_OVERLOADED');
    let answered = false;
    void first.then(() => {
      answered = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(answered, false, 'nothing is acknowledged before the broker confirmed');
    release();
    assert.equal((await first).statusCode, 200);
  });
});
