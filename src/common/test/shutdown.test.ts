import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GracefulShutdown } from '../src/index.ts';
import { silentLogger } from './support.ts';

test('shutdown steps run once, in order, even when one fails', async () => {
  const shutdown = new GracefulShutdown({ logger: silentLogger, timeoutMs: 1000 });
  const order: string[] = [];
  shutdown.add('readiness', () => {
    order.push('readiness');
  });
  shutdown.add('consumer', async () => {
    await new Promise((resolve) => setTimeout(resolve, 10));
    order.push('consumer');
    throw new Error('close failed');
  });
  shutdown.add('database', () => {
    order.push('database');
  });
  const first = shutdown.run();
  const second = shutdown.run();
  assert.equal(first, second, 'a second signal must not start a second drain');
  await assert.rejects(first, /shutdown steps failed/);
  assert.deepEqual(order, ['readiness', 'consumer', 'database']);
});
