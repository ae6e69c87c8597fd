import { createHash } from 'node:crypto';
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
import { defineEnv, envAccessors, locatedProblems } from '@auditflow/common/platform';
import { type ApiToken, PLAIN_TOKEN_SCOPES, TOKEN_SCOPES, type TokenScope } from './api/bearer-auth.ts';
import { loadOutputsFileSync, type OutputsConfig, OutputsConfigError } from './delivery/outputs-config.ts';
import { type PostgresConfig, readPostgresConfig } from './postgres-config.ts';

/** The service's own variables (docs/configuration.md is generated from this). */
export const NOTIFICATION_ENV = defineEnv({
  API_HOST: { type: 'string', default: '0.0.0.0', description: '' },
  API_PORT: { type: 'port', default: 8000, description: 'REST API, `/openapi.json`, `/healthz`, `/readyz`, `/metrics`' },
  RABBITMQ_ALERT_QUEUE: { type: 'string', default: 'audit_alerts', description: 'input queue' },
  RABBITMQ_PREFETCH: { type: 'int', default: 500, min: 1, max: 10_000, description: '' },
  API_TOKENS: {
    type: 'list',
    description:
      'comma-separated plain bearer tokens; each gets the scopes `read` and `ack` (what a token could do before scopes existed). None is built in: with none set every request that needs a token is refused with 401',
  },
  API_TOKENS_FILE: {
    type: 'string',
    description:
      'a file (a mounted Secret) with one token per line: `TOKEN [scopes=read,ack,admin] [name=NAME]`; blank lines and `#` comments skipped. A line without `scopes=` gets `read,ack`; `admin` (silences, outputs) is only granted explicitly. `name` is logged and becomes the default actor of status changes. A bad line stops the start (exit 78) naming the line number, never the token. See docs/api.md, "Tokens and scopes"',
  },
  API_READ_REQUIRES_TOKEN: {
    type: 'bool',
    default: false,
    description: '`true`: GET routes need a token with the `read` scope. Off by default because the original dashboard and other peers read `GET /alerts` without a token',
  },
  RETENTION_DAYS: { type: 'int', default: 30, min: 0, max: 36_500, description: 'alerts older than this are purged; `0` keeps everything' },
  RETENTION_INTERVAL_SECONDS: { type: 'int', default: 3600, min: 1, max: 604_800, description: 'how often the purge job runs' },
  MIGRATE_ON_START: { type: 'bool', default: true, description: 'run pending migrations at start; the `migrate` command runs them alone' },
  SERVICE_NAME: { type: 'string', default: 'notification-service', description: 'logger name' },
  OUTPUTS_FILE: {
    type: 'string',
    description: 'the outputs and routes YAML ([outputs.md](outputs.md)); unset: nothing is notified. Problems stop the start with exit 78 and `file:line:col`',
  },
  EXCEPTIONS_FILE: {
    type: 'string',
    description:
      'the exceptions file the analysis loads (the same path as its `EXCEPTIONS_FILE`). Where it is writable (the all-in-one), saving or deleting an exception rewrites it (temporary file + rename) and the analysis picks the change up; read-only or unset (the cluster: a ConfigMap), exceptions are stored and `GET /exceptions.yaml` gives the file to commit to Git. A missing file is created at start',
  },
  OUTBOX_POLL_MS: {
    type: 'int',
    default: 1000,
    min: 10,
    max: 600_000,
    description: "how often an idle delivery worker looks for due deliveries (other replicas' and retries; its own are sent at once)",
  },
  OUTBOX_LEASE_MS: {
    type: 'int',
    default: 60_000,
    min: 1000,
    max: 3_600_000,
    description: "how long a claimed delivery is reserved for its replica; must be at least twice every output's `timeout`",
  },
  OUTBOX_BATCH_SIZE: { type: 'int', default: 100, min: 1, max: 1000, description: 'deliveries claimed per round' },
});

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
  /** EXCEPTIONS_FILE: rewritten on every change where writable (docs/analysis-rules.md, "Exceptions"). */
  exceptionsFile: string | undefined;
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
  const read = envAccessors(NOTIFICATION_ENV, reader);
  const base = readBaseConfig(reader);
  const rabbit = readRabbitConfig(reader, NOTIFICATION_ENV.RABBITMQ_PREFETCH.default);
  const postgres = readPostgresConfig(reader);
  if (options.standalone) {
    requireBrokerUrl(reader, rabbit);
    if (postgres.url === undefined) reader.fail('PG_HOST', 'is required (or DATABASE_URL) when the service runs on its own');
  }
  const config: NotificationConfig = {
    base,
    serviceName: read.SERVICE_NAME(),
    rabbit,
    postgres,
    apiHost: read.API_HOST(),
    apiPort: read.API_PORT(),
    alertQueue: read.RABBITMQ_ALERT_QUEUE(),
    apiTokens: read.API_TOKENS(),
    apiTokensFile: read.API_TOKENS_FILE(),
    readRequiresToken: read.API_READ_REQUIRES_TOKEN(),
    retentionDays: read.RETENTION_DAYS(),
    retentionIntervalSeconds: read.RETENTION_INTERVAL_SECONDS(),
    migrateOnStart: read.MIGRATE_ON_START(),
    outputsFile: read.OUTPUTS_FILE(),
    exceptionsFile: read.EXCEPTIONS_FILE(),
    outboxPollMs: read.OUTBOX_POLL_MS(),
    outboxLeaseMs: read.OUTBOX_LEASE_MS(),
    outboxBatchSize: read.OUTBOX_BATCH_SIZE(),
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
    throw new ConfigError(locatedProblems(error.fileName, error.problems).map((problem) => ({ variable: 'OUTPUTS_FILE', problem })));
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
