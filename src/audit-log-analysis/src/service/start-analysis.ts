import { createHttpServer, createMetricsServer, createRegistry, HealthRegistry, startHttpService, type Logger, type MessageBroker, type Registry, type ServiceHandle, AfRedisFullError } from '@auditflow/common';
import { openExceptions } from '../analysis-files.ts';
import type { AnalysisConfig } from '../config.ts';
import { SERVICE_NAME } from '../config.ts';
import { AnalysisEngine } from '../engine/analysis-engine.ts';
import { EnrichmentMetrics } from '../enrichment/enrichment-metrics.ts';
import { type LoadedEnrichment, loadEnrichment } from '../enrichment/load-enrichment.ts';
import { EventClock } from '../rules/event-context.ts';
import type { RuleSet } from '../rules/rule-set.ts';
import { loadRulesFile } from '../rules/rules-file.ts';
import type { WindowStore } from '../store/window-store.ts';
import { ExceptionMetrics } from '../exceptions/exception-metrics.ts';
import type { ExceptionsSource } from '../exceptions/exceptions-source.ts';
import { AlertPublisher } from './alert-publisher.ts';
import { AnalysisMetrics, deadLetterReasonOf } from './analysis-metrics.ts';
import { createBatchEventHandler } from './batch-event-handler.ts';
import { registerRuleRoutes } from './http-routes.ts';

export interface AnalysisDeps {
  config: AnalysisConfig;
  logger: Logger;
  broker: MessageBroker;
  windowStore: WindowStore;
  /** Already-loaded rules; otherwise config.rulesFile is loaded (throws RulesError when invalid). */
  rules?: RuleSet;
  /** Already-loaded exceptions; otherwise config.exceptionsFile is loaded when set (throws ExceptionsFileError when invalid). */
  exceptions?: ExceptionsSource;
  /** The instance's metrics registry; a new one (with default metrics) when omitted. */
  registry?: Registry;
  /** Interface to bind the HTTP and metrics ports on. @default '0.0.0.0' */
  host?: string;
  /** Handlers running at once. @default config.rabbit.prefetch */
  concurrency?: number;
  /** The clock of first_seen rules (learning period, forgetting); tests move it. @default Date.now */
  now?: () => number;
  /** Already-opened enrichment (null: off); otherwise opened from config.enrichment (throws ConfigError when unusable). */
  enrichment?: LoadedEnrichment | null;
}

export interface AnalysisHandle extends ServiceHandle {
  engine: AnalysisEngine;
  registry: Registry;
  /** The exceptions in force; undefined without EXCEPTIONS_FILE. */
  exceptions: ExceptionsSource | undefined;
}

const MAX_ATTEMPTS = 5;

/**
 * Starts the analysis service on injected ports. It closes only what it
 * opened (consumer, HTTP servers); whoever created the broker and the window
 * store closes them after stop().
 */
export async function startAnalysis(deps: AnalysisDeps): Promise<AnalysisHandle> {
  const { config, broker, windowStore } = deps;
  const logger = deps.logger;
  const rules = deps.rules ?? (await loadRulesFile(config.rulesFile));
  const exceptions = deps.exceptions ?? (config.exceptionsFile === undefined ? undefined : openExceptions(config.exceptionsFile, rules, config, logger));
  const registry = deps.registry ?? createRegistry(SERVICE_NAME);
  const enrichment = deps.enrichment === undefined ? loadEnrichment(config.enrichment) : (deps.enrichment ?? undefined);
  if (enrichment) observeEnrichment(enrichment, new EnrichmentMetrics(registry));
  const exceptionMetrics = new ExceptionMetrics(registry, () => exceptions?.current.activeCount(Date.now()) ?? 0);
  const clock = new EventClock(config.rulesTimezone);
  // The engine is created below; the gauge reads it at scrape time.
  let learning = () => 0;
  const metrics = new AnalysisMetrics(
    registry,
    rules.rules.map((rule) => rule.id),
    { ruleIds: rules.correlations.filter((rule) => rule.firstSeen).map((rule) => rule.id), rulesLearning: () => learning() },
  );
  const engine = new AnalysisEngine({
    rules,
    store: windowStore,
    settings: {
      latenessMs: config.allowedLatenessSeconds * 1000,
      defaultCooldownMs: config.suppressionCooldownSeconds * 1000,
      environment: config.base.environment,
      ...(deps.now ? { now: deps.now } : {}),
    },
    hooks: {
      ruleMatched: (rule_id) => metrics.ruleMatches.inc({ rule_id }),
      lateEvent: (rule_id) => metrics.lateEvents.inc({ rule_id }),
      suppressed: (rule_id) => metrics.suppressed.inc({ rule_id }),
      stale: (rule_id, event_id, episode) => {
        metrics.staleEvents.inc({ rule_id });
        deps.logger.warn(
          { rule_id, event_id, episode_first_seen: new Date(episode.firstSeen).toISOString() },
          'match older than the open alert episode of its group; not folded into it',
        );
      },
      firstSeen: (rule_id, result, relearning) => {
        metrics.firstSeenLearned.inc({ rule_id }, result.learned);
        if (result.evicted > 0) metrics.firstSeenEvicted.inc({ rule_id, reason: 'max_values' }, result.evicted);
        if (result.forgotten > 0) metrics.firstSeenEvicted.inc({ rule_id, reason: 'forget_after' }, result.forgotten);
        metrics.firstSeenValues.set({ rule_id }, result.size);
        if (result.started) {
          const fields = { rule_id, learning_started: new Date(result.learningStart).toISOString() };
          if (relearning) logger.warn(fields, 'first_seen rule state was lost (Redis emptied); the rule re-enters its learning period instead of raising every value');
          else logger.info(fields, 'first_seen rule starts its learning period');
        }
      },
    },
  });
  learning = () => engine.firstSeenRulesLearning();

  const health = new HealthRegistry();
  health.register('rabbitmq', () => broker.check());
  // The check keeps the name of the dependency it asks (the in-memory store of the all-in-one mode has none).
  health.register(windowStore.kind === 'redis' ? 'redis' : 'window_store', () => windowStore.check());
  metrics.rabbitStatus.set(broker.isConnected() ? 1 : 0);
  metrics.redisStatus.set(windowStore.isConnected() ? 1 : 0);
  broker.onConnectionChange((connected) => metrics.rabbitStatus.set(connected ? 1 : 0));
  windowStore.onConnectionChange((connected) => metrics.redisStatus.set(connected ? 1 : 0));

  // Learning runs from start-up; should the store not answer now, the first batch starts it.
  await engine.startFirstSeen().catch((error: unknown) => logger.warn({ err: error }, 'could not start the learning period of first_seen rules yet'));
  await broker.declareQueues([config.queue, config.alertQueue]);
  const host = deps.host ?? '0.0.0.0';
  const app = createHttpServer({ logger, health, instrumentRegistry: registry });
  registerRuleRoutes(app, engine, windowStore);
  const metricsApp = createMetricsServer({ logger, registry });
  let consumer: { close(): Promise<void> } | undefined;
  const service = await startHttpService({
    name: SERVICE_NAME,
    host,
    health,
    listeners: [
      { name: 'http', app, port: config.appPort, variable: 'APP_PORT' },
      { name: 'metrics', app: metricsApp, port: config.prometheusPort, variable: 'PROMETHEUS_PORT', path: '/metrics' },
    ],
    drain: async () => {
      exceptions?.stop();
      await consumer?.close();
    },
  });

  let fullLoggedAt = 0;
  // One clear line every few seconds while Redis refuses writes, not one per retried event.
  const warnIfRedisFull = (error: unknown): void => {
    if ((error as { code?: unknown } | undefined)?.code !== AfRedisFullError.code || Date.now() - fullLoggedAt < 5000) return;
    fullLoggedAt = Date.now();
    logger.error({ err: error, code: AfRedisFullError.code }, 'Redis is out of memory; events are retried until it accepts writes');
  };
  exceptions?.start(exceptionMetrics);
  consumer = broker.consumeBatch(
    {
      queue: config.queue,
      // The next batch arrives while one is evaluated.
      prefetch: Math.max(config.rabbit.prefetch, 2 * config.batchSize),
      concurrency: deps.concurrency ?? config.rabbit.prefetch,
      maxAttempts: MAX_ATTEMPTS,
      batchSize: config.batchSize,
      batchLingerMs: config.batchLingerMs,
      // Every dead letter and retry is counted here, where the delivery policy decides them.
      onDeadLetter: (message, letter) => {
        const reason = deadLetterReasonOf(letter.code);
        metrics.deadLetter.inc({ reason });
        metrics.deadLettered.inc();
        if (reason === 'handler_error' || reason === 'delivery_limit') {
          logger.error({ message_id: message.messageId, code: letter.code, reason: letter.reason }, 'event dead-lettered');
        }
      },
      onRetry: (_message, error) => {
        metrics.retried.inc();
        warnIfRedisFull(error);
      },
    },
    // A batch already folds the versions of an alert into one publish.
    createBatchEventHandler({
      engine,
      metrics,
      logger,
      clock,
      enricher: enrichment?.enricher,
      ...(exceptions ? { exceptions, exceptionMetrics } : {}),
      publisher: new AlertPublisher(broker, config.alertQueue),
    }),
  );
  logger.info(
    {
      queue: config.queue,
      alert_queue: config.alertQueue,
      rules: rules.rules.length,
      rules_file: rules.fileName,
      exceptions: exceptions?.current.size ?? 0,
      exceptions_file: config.exceptionsFile,
      store: windowStore.kind,
      indexed: engine.index.stats(),
      enrichment: enrichment
        ? {
            country: enrichment.country && { file: enrichment.country.file, built: enrichment.country.buildDate },
            asn: enrichment.asn && { file: enrichment.asn.file, built: enrichment.asn.buildDate, ranges: enrichment.asn.size },
            hosts: enrichment.hosts?.size,
          }
        : 'off',
    },
    'analysis consuming',
  );

  return { ...service, engine, registry, exceptions };
}

function observeEnrichment(enrichment: LoadedEnrichment, metrics: EnrichmentMetrics): void {
  if (enrichment.country) metrics.database('country', enrichment.country);
  if (enrichment.asn) metrics.database('asn', enrichment.asn);
  enrichment.enricher.observe({
    cacheHit: () => metrics.cacheHit(),
    cacheMiss: () => metrics.cacheMiss(),
    lookup: (database) => metrics.lookup(database),
    host: (known) => metrics.host(known),
  });
}
