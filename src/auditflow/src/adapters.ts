import {
  AmqpBroker,
  createLogger,
  type Env,
  EnvReader,
  type LogLevel,
  MemoryBroker,
  type MessageBroker,
  readPostgresConfig,
  readRabbitConfig,
  readRedisConfig,
  redactUrl,
} from '@auditflow/common';
import { MemoryWindowStore, RedisWindowStore, type WindowStore } from '@auditflow/audit-log-analysis';
import { createPgliteSqlClient, createPostgresSqlClient, type SqlClient } from '@auditflow/notification-service';

/** The adapters behind the three ports, real where configured and embedded otherwise. */
export interface PlatformAdapters {
  broker: MessageBroker;
  windowStore: WindowStore;
  sqlClient: SqlClient;
  /** One line per port for the start-up summary. */
  describe: { broker: string; windows: string; alerts: string };
}

export async function openAdapters(env: Env, level: LogLevel): Promise<PlatformAdapters> {
  const reader = new EnvReader(env);
  const rabbit = readRabbitConfig(reader, 200);
  const redis = readRedisConfig(reader);
  const postgres = readPostgresConfig(reader);
  reader.done();
  const logger = createLogger({ service: 'auditflow', level });

  const broker: MessageBroker = rabbit.url
    ? new AmqpBroker({ url: rabbit.url, logger, connectionName: 'auditflow-all-in-one', queueType: rabbit.queueType })
    : new MemoryBroker({ logger });
  const windowStore: WindowStore = redis.url
    ? new RedisWindowStore({ url: redis.url, keyPrefix: redis.keyPrefix })
    : new MemoryWindowStore();
  const sqlClient = postgres.url
    ? createPostgresSqlClient(postgres, logger, 'auditflow-all-in-one')
    : await createPgliteSqlClient(postgres.dataDir);

  return {
    broker,
    windowStore,
    sqlClient,
    describe: {
      broker: rabbit.url ? `RabbitMQ ${redactUrl(rabbit.url)}` : 'in-process broker (embedded)',
      windows: redis.url ? `Redis ${redactUrl(redis.url)}` : 'in-memory window state (embedded)',
      alerts: postgres.url ? `PostgreSQL ${redactUrl(postgres.url)}` : `PGlite in ${postgres.dataDir} (embedded)`,
    },
  };
}
