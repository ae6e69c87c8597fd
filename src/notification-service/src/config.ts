import { createHash } from 'node:crypto';
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
import { type ApiToken, PLAIN_TOKEN_SCOPES, TOKEN_SCOPES, type TokenScope } from './api/bearer-auth.ts';
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
  /** API_READ_REQUIRES_TOKEN: GET routes need a token with the read scope (default: open, as the original). */
  readRequiresToken: boolean;
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
    readRequiresToken: reader.bool('API_READ_REQUIRES_TOKEN', false),
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

/**
 * API_TOKENS (plain tokens, comma-separated) plus the lines of API_TOKENS_FILE.
 * A file line is `TOKEN [scopes=read,ack,admin] [name=NAME]`; blank lines and
 * `#` comments are skipped. A token without `scopes=` (every API_TOKENS entry,
 * and every line of a file written before scopes existed) gets read and ack,
 * what a token could do then; admin is only ever granted explicitly.
 */
export async function resolveApiTokens(
  config: Pick<NotificationConfig, 'apiTokens' | 'apiTokensFile'>,
): Promise<ApiToken[]> {
  const tokens = config.apiTokens.map((token) => plainToken(token));
  if (config.apiTokensFile === undefined) return tokens;
  let text: string;
  try {
    text = await readFile(config.apiTokensFile, 'utf8');
  } catch (error) {
    throw new ConfigError([{ variable: 'API_TOKENS_FILE', problem: `cannot be read: ${(error as Error).message}` }]);
  }
  const problems: { variable: string; problem: string }[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const parsed = parseTokenLine(trimmed);
    if (typeof parsed === 'string') problems.push({ variable: 'API_TOKENS_FILE', problem: `line ${index + 1}: ${parsed}` });
    else tokens.push(parsed);
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return tokens;
}

/** An ApiToken, or the problem with the line (which never quotes the token). */
export function parseTokenLine(line: string): ApiToken | string {
  const [token = '', ...fields] = line.split(/\s+/);
  if (token.includes('=')) return 'must start with the token (then scopes=… and name=…)';
  let scopes: TokenScope[] | undefined;
  let name: string | undefined;
  for (const field of fields) {
    const [key, value = ''] = field.split(/=(.*)/s);
    if (key === 'scopes') {
      const listed = value.split(',').filter((scope) => scope !== '');
      const unknown = listed.filter((scope) => !(TOKEN_SCOPES as readonly string[]).includes(scope));
      if (unknown.length > 0 || listed.length === 0) return `scopes must be a comma list of ${TOKEN_SCOPES.join(', ')}`;
      scopes = [...new Set(listed as TokenScope[])];
    } else if (key === 'name' && /^[\w.@-]{1,64}$/.test(value)) {
      name = value;
    } else {
      return `unknown field '${key}' (scopes=…, name=… with letters, digits, . @ _ -)`;
    }
  }
  return { ...plainToken(token), ...(scopes ? { scopes } : {}), ...(name ? { name } : {}) };
}

/** A token without scopes; named by a digest prefix so logs can tell tokens apart without showing one. */
function plainToken(token: string): ApiToken {
  const id = createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 8);
  return { token, name: `token-${id}`, scopes: PLAIN_TOKEN_SCOPES };
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
