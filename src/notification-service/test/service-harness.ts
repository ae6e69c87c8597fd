import { type MessageBroker, MemoryBroker } from '@auditflow/common';
import { loadNotificationConfig } from '../src/config.ts';
import { type NotificationServiceHandle, startNotificationService } from '../src/service.ts';
import { type StoreOptions, silentLogger, type TestDatabase, uniqueName } from './helpers.ts';

export const TOKEN = 'test-token-0123456789abcdef';

export interface Harness {
  handle: NotificationServiceHandle;
  broker: MessageBroker;
  queue: string;
  stop(): Promise<void>;
}

/** The whole service on a test database, bound to an ephemeral port, with a bearer token configured. */
export async function startHarness(
  db: TestDatabase,
  options: {
    broker?: MessageBroker;
    env?: Record<string, string>;
    sseKeepAliveMs?: number;
    now?: () => Date;
    store?: StoreOptions;
  } = {},
): Promise<Harness> {
  const queue = uniqueName('alerts');
  const broker = options.broker ?? new MemoryBroker({ logger: silentLogger });
  const config = loadNotificationConfig({
    API_PORT: '0',
    API_HOST: '127.0.0.1',
    RABBITMQ_ALERT_QUEUE: queue,
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const store = await db.openStore(options.store);
  const handle = await startNotificationService({
    config,
    logger: silentLogger,
    broker,
    store,
    // TOKEN may do everything; scopes.test.ts covers tokens with fewer scopes.
    tokens: [{ token: TOKEN, name: 'test', scopes: ['read', 'ack', 'admin'] }],
    ...(options.sseKeepAliveMs === undefined ? {} : { sseKeepAliveMs: options.sseKeepAliveMs }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return {
    handle,
    broker,
    queue,
    stop: async () => {
      await handle.stop();
      await broker.close();
    },
  };
}
