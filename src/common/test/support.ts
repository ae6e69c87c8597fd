import { randomUUID } from 'node:crypto';
import { Connection } from 'rabbitmq-client';
import { pino } from 'pino';

/** Servers of the test machine; override with env for other set-ups. */
export const RABBITMQ_URL = process.env['TEST_RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
export const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379/0';
export const DATABASE_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

export const silentLogger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

export function uniqueName(prefix: string): string {
  return `test-${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Deletes test queues (and their dead-letter queues) from the real broker. */
export async function deleteQueues(queues: readonly string[]): Promise<void> {
  const connection = new Connection({ url: RABBITMQ_URL, retryLow: 100, retryHigh: 200 });
  try {
    for (const queue of queues) {
      await connection.queueDelete({ queue }).catch(() => undefined);
      await connection.queueDelete({ queue: `${queue}.dlq` }).catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
}

export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
