import { readFile } from 'node:fs/promises';
import {
  type BaseConfig,
  ConfigError,
  type Env,
  EnvReader,
  type RabbitConfig,
  readBaseConfig,
  readRabbitConfig,
  requireBrokerUrl,
} from '@auditflow/common';
import { type PostgresConfig, readPostgresConfig } from './postgres-config.ts';

export interface NotificationConfig {
  base: BaseConfig;
  serviceName: string;
  rabbit: RabbitConfig;
  postgres: PostgresConfig;
  apiHost: string;
  apiPort: number;
  alertQueue: string;
  /** From API_TOKENS; API_TOKENS_FILE is read by resolveApiTokens. */
  apiTokens: string[];
  apiTokensFile: string | undefined;
  retentionDays: number;
  retentionIntervalSeconds: number;
  migrateOnStart: boolean;
}

export interface LoadOptions {
  /**
   * Running on its own (main.ts), the service needs a real broker and database:
   * their absence is a ConfigError naming RABBITMQ_HOST / PG_HOST. Only the
   * all-in-one runner may leave them unset and inject embedded adapters.
   */
  standalone?: boolean;
}

/** Reads and validates docs/configuration.md's notification-service variables; pure (no I/O). */
export function loadNotificationConfig(env: Env, options: LoadOptions = {}): NotificationConfig {
  const reader = new EnvReader(env);
  const base = readBaseConfig(reader);
  const rabbit = readRabbitConfig(reader, 500);
  const postgres = readPostgresConfig(reader);
  if (options.standalone) {
    requireBrokerUrl(reader, rabbit);
    if (postgres.url === undefined) reader.fail('PG_HOST', 'is required (or DATABASE_URL) when the service runs on its own');
  }
  const config: NotificationConfig = {
    base,
    serviceName: reader.string('SERVICE_NAME', 'notification-service'),
    rabbit,
    postgres,
    apiHost: reader.string('API_HOST', '0.0.0.0'),
    apiPort: reader.port('API_PORT', 8000),
    alertQueue: reader.string('RABBITMQ_ALERT_QUEUE', 'audit_alerts'),
    apiTokens: reader.list('API_TOKENS'),
    apiTokensFile: reader.string('API_TOKENS_FILE'),
    retentionDays: reader.int('RETENTION_DAYS', 30, { min: 0, max: 36_500 }),
    retentionIntervalSeconds: reader.int('RETENTION_INTERVAL_SECONDS', 3600, { min: 1, max: 604_800 }),
    migrateOnStart: reader.bool('MIGRATE_ON_START', true),
  };
  reader.done();
  return config;
}

/** API_TOKENS plus the lines of API_TOKENS_FILE (blank lines and # comments skipped). */
export async function resolveApiTokens(config: Pick<NotificationConfig, 'apiTokens' | 'apiTokensFile'>): Promise<string[]> {
  if (config.apiTokensFile === undefined) return [...config.apiTokens];
  let text: string;
  try {
    text = await readFile(config.apiTokensFile, 'utf8');
  } catch (error) {
    throw new ConfigError([{ variable: 'API_TOKENS_FILE', problem: `cannot be read: ${(error as Error).message}` }]);
  }
  const fromFile = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return [...config.apiTokens, ...fromFile];
}
