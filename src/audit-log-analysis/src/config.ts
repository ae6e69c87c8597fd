import {
  type BaseConfig,
  type Env,
  EnvReader,
  type RabbitConfig,
  readBaseConfig,
  readRabbitConfig,
  requireBrokerUrl,
} from '@auditflow/common';
import { type EnrichmentConfig, readEnrichmentConfig } from './enrichment/enrichment-config.ts';
import { type RedisConfig, readRedisConfig } from './redis-config.ts';
import { assertTimeZone } from './rules/event-context.ts';
import { DEFAULT_RULES_FILE } from './rules/rules-file.ts';

export const SERVICE_NAME = 'audit-log-analysis';

export interface AnalysisConfig {
  base: BaseConfig;
  rabbit: RabbitConfig;
  redis: RedisConfig;
  appPort: number;
  prometheusPort: number;
  queue: string;
  alertQueue: string;
  rulesFile: string;
  /** EXCEPTIONS_FILE: alerts an active exception matches are never published; unset: none. */
  exceptionsFile: string | undefined;
  /** How often the exceptions file is re-read (0: only at start). */
  exceptionsReloadMs: number;
  rulesTimezone: string;
  allowedLatenessSeconds: number;
  suppressionCooldownSeconds: number;
  /** Most deliveries per batch. */
  batchSize: number;
  /** How long a short batch waits for more deliveries. */
  batchLingerMs: number;
  enrichment: EnrichmentConfig;
}

export interface LoadAnalysisConfigOptions {
  /**
   * A service started on its own needs a real broker and Redis; only the
   * all-in-one runner may leave them unset and inject embedded adapters.
   * @default false
   */
  standalone?: boolean;
}

/** Reads and validates the configuration (docs/configuration.md); throws one ConfigError naming every bad variable. */
export function loadAnalysisConfig(env: Env, options: LoadAnalysisConfigOptions = {}): AnalysisConfig {
  const reader = new EnvReader(env);
  const base = readBaseConfig(reader);
  const rabbit = readRabbitConfig(reader, 200);
  const redis = readRedisConfig(reader);
  if (options.standalone) {
    requireBrokerUrl(reader, rabbit);
    if (redis.url === undefined) reader.fail('REDIS_HOST', 'is required (or REDIS_URL) when the service runs on its own');
  }
  const rulesTimezone = reader.string('RULES_TIMEZONE', 'UTC');
  try {
    assertTimeZone(rulesTimezone);
  } catch {
    reader.fail('RULES_TIMEZONE', `must be an IANA time zone such as UTC or Europe/Berlin, got "${rulesTimezone}"`);
  }
  const config: AnalysisConfig = {
    base,
    rabbit,
    redis,
    appPort: reader.port('APP_PORT', 5001),
    prometheusPort: reader.port('PROMETHEUS_PORT', 8001),
    queue: reader.string('RABBITMQ_QUEUE', 'audit_events'),
    alertQueue: reader.string('RABBITMQ_ALERT_QUEUE', 'audit_alerts'),
    rulesFile: reader.string('RULES_FILE', DEFAULT_RULES_FILE),
    exceptionsFile: reader.string('EXCEPTIONS_FILE'),
    exceptionsReloadMs: reader.int('EXCEPTIONS_RELOAD_SECONDS', 5, { min: 0, max: 3600 }) * 1000,
    rulesTimezone,
    allowedLatenessSeconds: reader.int('ALLOWED_LATENESS_SECONDS', 300, { min: 0, max: 86_400 }),
    suppressionCooldownSeconds: reader.int('SUPPRESSION_COOLDOWN_SECONDS', 300, { min: 0, max: 604_800 }),
    batchSize: reader.int('ANALYSIS_BATCH_SIZE', 250, { min: 1, max: 5000 }),
    batchLingerMs: reader.int('ANALYSIS_BATCH_LINGER_MS', 5, { min: 0, max: 1000 }),
    enrichment: readEnrichmentConfig(reader),
  };
  if (config.queue === config.alertQueue) reader.fail('RABBITMQ_ALERT_QUEUE', 'must differ from RABBITMQ_QUEUE');
  reader.done();
  return config;
}
