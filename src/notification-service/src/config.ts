import { readFile } from 'node:fs/promises';
import {
  type BaseConfig,
  ConfigError,
  type Env,
  EnvReader,
  type PostgresConfig,
  type RabbitConfig,
  readBaseConfig,
  readPostgresConfig,
  readRabbitConfig,
  requireBrokerUrl,
} from '@auditflow/common';
import { loadOutputsFileSync, type OutputsConfig, OutputsConfigError } from './delivery/outputs-config.ts';

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
  /** The outputs and routes (docs/outputs.md); without it nothing is notified. */
  outputsFile: string | undefined;
  outboxPollMs: number;
  outboxLeaseMs: number;
  outboxBatchSize: number;
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
    outputsFile: reader.string('OUTPUTS_FILE'),
    outboxPollMs: reader.int('OUTBOX_POLL_MS', 1000, { min: 10, max: 600_000 }),
    outboxLeaseMs: reader.int('OUTBOX_LEASE_MS', 60_000, { min: 1000, max: 3_600_000 }),
    outboxBatchSize: reader.int('OUTBOX_BATCH_SIZE', 100, { min: 1, max: 1000 }),
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

/**
 * Reads OUTPUTS_FILE (file:line:col problems become a ConfigError naming the variable, so the
 * service exits 78) and checks every output's timeout fits in the outbox lease: a send outliving
 * its lease could be claimed and sent again by another replica.
 */
export function loadOutputs(
  config: Pick<NotificationConfig, 'outputsFile' | 'outboxLeaseMs'>,
  env: Env,
): OutputsConfig | undefined {
  if (config.outputsFile === undefined) return undefined;
  let outputs: OutputsConfig;
  try {
    outputs = loadOutputsFileSync(config.outputsFile, env);
  } catch (error) {
    if (!(error instanceof OutputsConfigError)) throw error;
    const problems = error.problems.map((p) => `${error.fileName}:${p.line}:${p.column}: ${p.message}`);
    throw new ConfigError(problems.map((problem) => ({ variable: 'OUTPUTS_FILE', problem })));
  }
  for (const output of outputs.outputs.values()) {
    if (output.timeoutMs * 2 > config.outboxLeaseMs) {
      throw new ConfigError([
        { variable: 'OUTBOX_LEASE_MS', problem: `must be at least twice output "${output.name}"'s timeout (${output.timeoutMs} ms)` },
      ]);
    }
  }
  return outputs;
}
