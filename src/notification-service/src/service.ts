import {
  AuditFlowError,
  backoffDelay,
  createHttpServer,
  createRegistry,
  HealthRegistry,
  isTransient,
  type Logger,
  startHttpService,
  type MessageBroker,
  type Registry,
  type ServiceHandle,
  sleep,
} from '@auditflow/common';
import type { FastifyInstance } from 'fastify';
import { registerAlertRoutes } from './api/alert-routes.ts';
import { BearerAuth } from './api/bearer-auth.ts';
import { SseHub } from './api/sse-hub.ts';
import { classifyDbError } from './db/db-errors.ts';
import { type NotificationConfig, resolveApiTokens } from './config.ts';
import { type AlertConsumer, startAlertConsumer } from './ingest/alert-consumer.ts';
import { createNotificationMetrics, type NotificationMetrics } from './metrics.ts';
import { RetentionJob } from './retention/retention-job.ts';
import type { AlertStore } from './store/alert-store.ts';

export interface NotificationServiceDeps {
  config: NotificationConfig;
  logger: Logger;
  /** Not owned: the caller closes it after stop() (the all-in-one runner shares one). */
  broker: MessageBroker;
  /** Owned from here on: stop() closes it last. */
  store: AlertStore;
  /** @default a new registry labelled with the service name */
  registry?: Registry;
  /** @default 15000 */
  sseKeepAliveMs?: number;
  /** @default () => new Date() */
  now?: () => Date;
}

export interface NotificationServiceHandle extends ServiceHandle {
  /** The HTTP server, for fastify's inject() in tests. */
  readonly app: FastifyInstance;
  readonly metrics: NotificationMetrics;
  readonly registry: Registry;
  readonly health: HealthRegistry;
  readonly retention: RetentionJob;
}

/**
 * Starts the notification service on injected ports: migrations (when
 * MIGRATE_ON_START), the alert consumer, the REST API with /metrics on the
 * same port, and the retention job.
 */
export async function startNotificationService(deps: NotificationServiceDeps): Promise<NotificationServiceHandle> {
  const { config, broker, store } = deps;
  const logger = deps.logger;
  const now = deps.now ?? (() => new Date());
  const registry = deps.registry ?? createRegistry(config.serviceName);
  const metrics = createNotificationMetrics(registry);
  const stopping = new AbortController();

  const health = new HealthRegistry();
  health.register('postgres', async () => {
    try {
      await store.check();
      metrics.databaseUp.set(1);
    } catch (error) {
      metrics.databaseUp.set(0);
      throw error;
    }
  });
  health.register('rabbitmq', () => broker.check());
  metrics.rabbitmqUp.set(broker.isConnected() ? 1 : 0);
  broker.onConnectionChange((connected) => metrics.rabbitmqUp.set(connected ? 1 : 0));

  const auth = new BearerAuth(await resolveApiTokens(config));
  if (!auth.configured) logger.warn('no API token configured (API_TOKENS, API_TOKENS_FILE): every PATCH /alerts/{id} gets 401');

  if (config.migrateOnStart) await migrateWithRetry(store, logger, stopping.signal);
  await broker.declareQueues([config.alertQueue]);

  const consumer: AlertConsumer = startAlertConsumer({
    broker,
    store,
    queue: config.alertQueue,
    prefetch: config.rabbit.prefetch,
    logger,
    metrics,
  });

  const sse = new SseHub({ store, logger, metrics, keepAliveMs: deps.sseKeepAliveMs ?? 15_000 });
  const app = createHttpServer({ logger, health, metricsRegistry: registry });
  registerAlertRoutes(app, { store, auth, sse, metrics, now });
  const retention = new RetentionJob({
    store,
    logger,
    metrics,
    retentionDays: config.retentionDays,
    intervalSeconds: config.retentionIntervalSeconds,
    now,
  });

  const service = await startHttpService({
    name: config.serviceName,
    host: config.apiHost,
    health,
    listeners: [
      { name: 'http', app, port: config.apiPort, variable: 'API_PORT', alsoServes: { metrics: '/metrics', openapi: '/openapi.json' } },
    ],
    abort: () => consumer.close(),
    drain: async () => {
      stopping.abort();
      await retention.stop();
      await consumer.close();
      await sse.close();
    },
    close: () => store.close(),
  });
  retention.start();
  return { ...service, app, metrics, registry, health, retention };
}

/** A database that is still starting is normal in a cluster: wait for it instead of crash-looping. */
async function migrateWithRetry(store: AlertStore, logger: Logger, signal: AbortSignal): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const applied = await store.migrate();
      logger.info({ applied }, applied.length > 0 ? 'database migrated' : 'database schema up to date');
      return;
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      if (signal.aborted) throw error;
      logger.warn({ err: error, attempt }, 'database unavailable for migrations; retrying');
      await sleep(backoffDelay(attempt, { initialMs: 500, maxMs: 10_000 }), signal);
    }
  }
}

function isUnavailable(error: unknown): boolean {
  if (error instanceof AuditFlowError) return isTransient(error);
  return classifyDbError(error) === 'transient';
}
