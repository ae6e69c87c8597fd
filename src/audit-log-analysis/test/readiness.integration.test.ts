// Readiness while Redis is down or hangs: /readyz must answer 503 within the probe's timeout,
// not wait for ioredis' offline queue or a command timeout.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { TcpProxy } from '../../common/test/tcp-proxy.ts';
import { waitFor } from '../../common/test/support.ts';
import { RedisWindowStore } from '../src/store/redis-window-store.ts';
import { cleanup, startTestAnalysis, TestPublisher, testNames } from './integration-support.ts';

/** The kubelet's default probe timeout is 1 s: an answer after it counts as a failure. */
const PROBE_TIMEOUT_MS = 1000;

async function probe(url: string): Promise<{ status: number; redis: boolean | undefined }> {
  const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  const body = (await response.json()) as { checks?: Record<string, { ok: boolean }> };
  return { status: response.status, redis: body.checks?.['redis']?.ok };
}

describe('analysis readiness without Redis', () => {
  const names = testNames('ready');
  const publisher = new TestPublisher();
  after(async () => {
    await publisher.close();
    await cleanup(names);
  });

  test('/readyz answers 503 within the probe timeout, every time, while Redis is down, and 200 again after', async () => {
    const redis = await TcpProxy.start('127.0.0.1', 6379);
    await publisher.declare([names.queue, names.alertQueue]);
    const analysis = await startTestAnalysis(names, { REDIS_URL: `redis://127.0.0.1:${redis.port}` });
    const url = analysis.handle.urls['http']!;
    try {
      await waitFor(async () => ((await probe(url)).status === 200 ? true : undefined), 20_000, 'ready');
      redis.cut();
      for (let i = 0; i < 5; i++) {
        const answer = await probe(url);
        assert.equal(answer.status, 503);
        assert.equal(answer.redis, false);
      }
      redis.restore();
      await waitFor(async () => ((await probe(url)).status === 200 ? true : undefined), 20_000, 'ready again');
    } finally {
      await analysis.stop();
      await redis.close();
    }
  });

  test('the Redis check fails within the probe timeout when the server accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const store = new RedisWindowStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'never:', commandTimeoutMs: 200 });
    try {
      const outcome = await Promise.race([
        store.check().then(
          () => 'answered',
          (error: { code?: string }) => error.code,
        ),
        new Promise((resolve) => setTimeout(() => resolve('hung'), PROBE_TIMEOUT_MS)),
      ]);
      assert.equal(outcome, 'AF_REDIS_UNAVAILABLE');
    } finally {
      for (const socket of sockets) socket.destroy();
      await store.close();
      silent.close();
    }
  });
});
