import {
  AmqpBroker,
  assertBrokerReachable,
  assertRedisReachable,
  createLogger,
  type Env,
  EnvReader,
  type LogLevel,
  MemoryBroker,
  type MessageBroker,
  type RabbitConfig,
  readRabbitConfig,
  redactUrl,
} from '@auditflow/common';
import {
  MemoryWindowStore,
  type RedisConfig,
  RedisWindowStore,
  readRedisConfig,
  type WindowStore,
} from '@auditflow/audit-log-analysis';
import {
  assertDatabaseReachable,
  createPgliteSqlClient,
  createPostgresSqlClient,
  type PostgresConfig,
  readPostgresConfig,
  type SqlClient,
} from '@auditflow/notification-service';

/** The adapters behind the three ports, real where configured and embedded otherwise. */
export interface PlatformAdapters {
  broker: MessageBroker;
  windowStore: WindowStore;
  sqlClient: SqlClient;
  /** One line per port for the start-up summary. */
  describe: { broker: string; windows: string; alerts: string };
}

export interface AdapterConfig {
  rabbit: RabbitConfig;
  redis: RedisConfig;
  postgres: PostgresConfig;
  /** The variable a person changes when the configured broker or database cannot be used. */
  brokerVariable: string;
  redisVariable: string;
  databaseVariable: string;
}

export function readAdapterConfig(env: Env): AdapterConfig {
  const reader = new EnvReader(env);
  const config = {
    rabbit: readRabbitConfig(reader, 200),
    redis: readRedisConfig(reader),
    postgres: readPostgresConfig(reader),
    brokerVariable: reader.has('RABBITMQ_URL') ? 'RABBITMQ_URL' : 'RABBITMQ_HOST/RABBITMQ_PORT',
    redisVariable: reader.has('REDIS_URL') ? 'REDIS_URL' : 'REDIS_HOST/REDIS_PORT',
    databaseVariable: reader.has('DATABASE_URL') ? 'DATABASE_URL' : 'PG_HOST/PG_PORT/PG_DB',
  };
  reader.done();
  return config;
}

/** Where the alerts live, for progress lines before the store is opened. */
export function describeAlertStore(config: AdapterConfig): string {
  return config.postgres.url ? `PostgreSQL ${redactUrl(config.postgres.url)}` : `PGlite in ${config.postgres.dataDir}`;
}

/** Fails fast, as one StartupError line, when a configured broker or database cannot be reached. */
export async function checkConfiguredServers(config: AdapterConfig): Promise<void> {
  if (config.rabbit.url) await assertBrokerReachable(config.rabbit.url, config.brokerVariable);
  if (config.postgres.url) await assertDatabaseReachable(config.postgres.url, config.databaseVariable);
  if (config.redis.url) await assertRedisReachable(config.redis.url, config.redisVariable);
}

export async function openAdapters(config: AdapterConfig, level: LogLevel): Promise<PlatformAdapters> {
  const { rabbit, redis, postgres } = config;
  const logger = createLogger({ service: 'auditflow', level });
  // The store first: a locked data directory must stop the start before any connection is opened.
  const sqlClient = postgres.url
    ? createPostgresSqlClient(postgres, logger, 'auditflow-all-in-one')
    : await createPgliteSqlClient(postgres.dataDir);
  const broker: MessageBroker = rabbit.url
    ? new AmqpBroker({ url: rabbit.url, logger, connectionName: 'auditflow-all-in-one', queueType: rabbit.queueType })
    : new MemoryBroker({ logger });
  const windowStore: WindowStore = redis.url
    ? new RedisWindowStore({ url: redis.url, keyPrefix: redis.keyPrefix })
    : new MemoryWindowStore();

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
