import { readFileSync } from 'node:fs';
import {
  type BaseConfig,
  type Env,
  EnvReader,
  type EventTimeBounds,
  type RabbitConfig,
  readBaseConfig,
  readEventTimeBounds,
  readRabbitConfig,
} from '@auditflow/common';
import { assertCidrs, parseSenderHosts } from './listeners/sender-policy.ts';

/** PEM material read at start-up, so a missing file fails the start (exit 78), not the first connection. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  /** Client CAs: when set, client certificates signed by them are accepted as authentication. */
  ca?: Buffer;
}

export interface IngestConfig {
  base: BaseConfig;
  rabbit: RabbitConfig;
  /** Interface every listener binds; 0.0.0.0 in a container. */
  host: string;
  /** APP_PORT: webhook, NDJSON and journald routes plus the probes. 0 picks a free port. */
  appPort: number;
  /** PROMETHEUS_PORT. */
  metricsPort: number;
  /** SYSLOG_PORT: TCP and UDP on the same number. */
  syslogPort: number;
  syslogEnabled: boolean;
  /** SYSLOG_TLS_PORT: the TLS listener, open only when SYSLOG_TLS_CERT_FILE/KEY_FILE are set. */
  syslogTlsPort: number;
  /** RABBITMQ_QUEUE: where normalised events go (the analysis input). */
  queue: string;
  /** INGEST_DLQ: records that could not be normalised, with the reason in headers. */
  deadLetterQueue: string;
  /** INGEST_TLS_CERT_FILE / INGEST_TLS_KEY_FILE / INGEST_TLS_CLIENT_CA_FILE: HTTPS for the app port. */
  httpTls: TlsFiles | undefined;
  /** SYSLOG_TLS_CERT_FILE / SYSLOG_TLS_KEY_FILE / SYSLOG_TLS_CLIENT_CA_FILE: TLS on the syslog TCP port. */
  syslogTls: TlsFiles | undefined;
  /** INGEST_TOKENS or INGEST_TOKENS_FILE: bearer tokens the HTTP routes accept. */
  tokens: readonly string[];
  /** INGEST_AUTH=none: only for loopback set-ups (the all-in-one mode). */
  allowUnauthenticated: boolean;
  /** INGEST_CLUSTER_NAME: server_hostname of Kubernetes audit events (they do not name the API server). */
  clusterName: string;
  /** INGEST_MAX_BODY_BYTES: largest HTTP body. The API server's batch webhook sends up to 400 events per request by default. */
  maxBodyBytes: number;
  /** INGEST_MAX_BATCH_EVENTS: most records per HTTP request. */
  maxBatchEvents: number;
  /** INGEST_MAX_IN_FLIGHT: events awaiting a broker confirm across all senders; beyond it HTTP answers 429. */
  maxInFlight: number;
  /** SYSLOG_MAX_MESSAGE_BYTES: a longer syslog message is dead-lettered (TCP) or dropped and counted (UDP). */
  syslogMaxMessageBytes: number;
  /** SYSLOG_TIMEZONE: zone of RFC 3164 timestamps, which carry none. */
  syslogTimezone: string;
  /** RETRY_AFTER_SECONDS: what 429/503 answers ask the sender to wait. */
  retryAfterSeconds: number;
  /** EVENT_MAX_FUTURE_SKEW_SECONDS / EVENT_MAX_PAST_SKEW_SECONDS. */
  timeBounds: EventTimeBounds;
  /** SYSLOG_PLAIN_ENABLED: the unauthenticated TCP and UDP listeners on SYSLOG_PORT. */
  syslogPlainEnabled: boolean;
  /** SYSLOG_ALLOWED_SENDERS: CIDRs plain TCP/UDP (and TLS without client certificates) accept senders from. */
  syslogAllowedSenders: readonly string[];
  /** SYSLOG_SENDER_HOSTS: host → addresses it sends from; a claimed HOSTNAME that does not fit is flagged. */
  syslogSenderHosts: ReadonlyMap<string, readonly string[]>;
  /** SYSLOG_IDLE_TIMEOUT_SECONDS: a TCP/TLS connection that sends nothing this long is closed. */
  syslogIdleTimeoutMs: number;
  /** SYSLOG_MAX_CONNECTIONS: open TCP plus TLS connections; more are refused. */
  syslogMaxConnections: number;
}

/** Parses the ingest service's environment (docs/configuration.md); throws one ConfigError naming every bad variable. */
export function loadIngestConfig(env: Env, options: { reader?: EnvReader; deferDone?: boolean } = {}): IngestConfig {
  const reader = options.reader ?? new EnvReader(env);
  const base = readBaseConfig(reader);
  const rabbit = readRabbitConfig(reader, 10);
  const appPort = reader.port('APP_PORT', 5002);
  const metricsPort = reader.port('PROMETHEUS_PORT', 8002);
  const syslogEnabled = reader.bool('SYSLOG_ENABLED', true);
  const syslogPort = reader.port('SYSLOG_PORT', 5514);
  const syslogTlsPort = reader.port('SYSLOG_TLS_PORT', 6514);
  const queue = reader.string('RABBITMQ_QUEUE', 'audit_events');
  if (queue.length > 250) reader.fail('RABBITMQ_QUEUE', 'must be at most 250 characters');
  const deadLetterQueue = reader.string('INGEST_DLQ', `${queue}.dlq`);
  const httpTls = readTls(reader, 'INGEST_TLS');
  const syslogTls = readTls(reader, 'SYSLOG_TLS');
  const tokens = readTokens(reader);
  const auth = reader.oneOf('INGEST_AUTH', ['required', 'none'] as const, 'required');
  if (auth === 'required' && tokens.length === 0 && httpTls?.ca === undefined) {
    reader.fail(
      'INGEST_TOKENS',
      'set INGEST_TOKENS (or INGEST_TOKENS_FILE) or INGEST_TLS_CLIENT_CA_FILE so senders can authenticate; INGEST_AUTH=none only for loopback',
    );
  }
  const clusterName = reader.string('INGEST_CLUSTER_NAME', 'kubernetes');
  const maxBodyBytes = reader.int('INGEST_MAX_BODY_BYTES', 16 * 1024 * 1024, { min: 1024, max: 256 * 1024 * 1024 });
  const maxBatchEvents = reader.int('INGEST_MAX_BATCH_EVENTS', 5000, { min: 1, max: 100_000 });
  const maxInFlight = reader.int('INGEST_MAX_IN_FLIGHT', 20_000, { min: 1, max: 1_000_000 });
  const syslogMaxMessageBytes = reader.int('SYSLOG_MAX_MESSAGE_BYTES', 16 * 1024, { min: 480, max: 64 * 1024 });
  const syslogTimezone = reader.string('SYSLOG_TIMEZONE', 'UTC');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: syslogTimezone });
  } catch {
    reader.fail('SYSLOG_TIMEZONE', `unknown time zone "${syslogTimezone}"`);
  }
  const retryAfterSeconds = reader.int('RETRY_AFTER_SECONDS', 5, { min: 1, max: 3600 });
  const timeBounds = readEventTimeBounds(reader);
  const syslogPlainEnabled = reader.bool('SYSLOG_PLAIN_ENABLED', true);
  const syslogAllowedSenders = reader.list('SYSLOG_ALLOWED_SENDERS', ['127.0.0.0/8', '::1/128']);
  try {
    assertCidrs(syslogAllowedSenders);
  } catch (error) {
    reader.fail('SYSLOG_ALLOWED_SENDERS', (error as Error).message);
  }
  let syslogSenderHosts = new Map<string, string[]>();
  try {
    syslogSenderHosts = parseSenderHosts(reader.list('SYSLOG_SENDER_HOSTS'));
  } catch (error) {
    reader.fail('SYSLOG_SENDER_HOSTS', (error as Error).message);
  }
  const syslogIdleTimeoutMs = reader.int('SYSLOG_IDLE_TIMEOUT_SECONDS', 600, { min: 1, max: 86_400 }) * 1000;
  const syslogMaxConnections = reader.int('SYSLOG_MAX_CONNECTIONS', 256, { min: 1, max: 65_536 });
  if (!options.deferDone) reader.done();
  return {
    base,
    rabbit,
    host: '0.0.0.0',
    appPort,
    metricsPort,
    syslogPort,
    syslogEnabled,
    syslogTlsPort,
    queue,
    deadLetterQueue,
    httpTls,
    syslogTls,
    tokens,
    allowUnauthenticated: auth === 'none',
    clusterName,
    maxBodyBytes,
    maxBatchEvents,
    maxInFlight,
    syslogMaxMessageBytes,
    syslogTimezone,
    retryAfterSeconds,
    timeBounds,
    syslogPlainEnabled,
    syslogAllowedSenders,
    syslogSenderHosts,
    syslogIdleTimeoutMs,
    syslogMaxConnections,
  };
}

function readFile(reader: EnvReader, variable: string): Buffer | undefined {
  const path = reader.raw(variable);
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    reader.fail(variable, `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return undefined;
  }
}

function readTls(reader: EnvReader, prefix: string): TlsFiles | undefined {
  const cert = readFile(reader, `${prefix}_CERT_FILE`);
  const key = readFile(reader, `${prefix}_KEY_FILE`);
  const ca = readFile(reader, `${prefix}_CLIENT_CA_FILE`);
  if (cert === undefined && key === undefined) {
    if (ca !== undefined) reader.fail(`${prefix}_CLIENT_CA_FILE`, `needs ${prefix}_CERT_FILE and ${prefix}_KEY_FILE`);
    return undefined;
  }
  if (cert === undefined || key === undefined) {
    reader.fail(cert === undefined ? `${prefix}_CERT_FILE` : `${prefix}_KEY_FILE`, 'both the certificate and the key are required');
    return undefined;
  }
  return ca === undefined ? { cert, key } : { cert, key, ca };
}

/** Comma-separated tokens, or one per line in a file (a mounted Secret); each at least 16 characters. */
function readTokens(reader: EnvReader): string[] {
  const fromEnv = reader.list('INGEST_TOKENS');
  const file = readFile(reader, 'INGEST_TOKENS_FILE');
  const fromFile = file === undefined ? [] : file.toString('utf8').split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const tokens = [...fromEnv, ...fromFile];
  if (tokens.some((token) => token.length < 16)) {
    reader.fail(fromEnv.some((token) => token.length < 16) ? 'INGEST_TOKENS' : 'INGEST_TOKENS_FILE', 'every token must be at least 16 characters');
  }
  return tokens;
}
