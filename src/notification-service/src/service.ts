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
import { type ApiToken, BearerAuth, registerScopeEnforcement } from './api/bearer-auth.ts';
import { registerDeliveryRoutes } from './api/delivery-routes.ts';
import { registerExceptionRoutes } from './api/exception-routes.ts';
import { registerOpenApi } from './api/openapi-document.ts';
import { registerResponseRoutes } from './api/response-routes.ts';
import { registerSilenceRoutes } from './api/silence-routes.ts';
import { SseHub } from './api/sse-hub.ts';
import { classifyDbError } from './db/db-errors.ts';
import { loadOutputs, type NotificationConfig, resolveApiTokens } from './config.ts';
import { createDeliveryPlanner } from './delivery/delivery-planner.ts';
import { toEntry } from './exceptions/exception-store.ts';
import { ExceptionsFileWriter } from './exceptions/exceptions-file-writer.ts';
import { DeliveryWorker } from './delivery/delivery-worker.ts';
import { createSenders, type SenderSet } from './delivery/outputs/senders.ts';
import type { OutputsConfig } from './delivery/outputs-config.ts';
import { SilenceAnnotator, silenceAwareStore } from './silences/silence-annotator.ts';
import { type AlertConsumer, startAlertConsumer } from './ingest/alert-consumer.ts';
import { createNotificationMetrics, type NotificationMetrics } from './metrics.ts';
import { registerOperatorAddressRoute } from './response/operator-addresses.ts';
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
  /** Tokens besides API_TOKENS / API_TOKENS_FILE (the all-in-one runner's own dashboard token). */
  tokens?: readonly ApiToken[];
  /** Outputs and routes; @default read from OUTPUTS_FILE (none when it is unset) */
  outputs?: OutputsConfig | undefined;
  /** Where `{ env: NAME }` secrets of the outputs file are read. @default process.env */
  env?: Record<string, string | undefined>;
}

export interface NotificationServiceHandle extends ServiceHandle {
  /** The HTTP server, for fastify's inject() in tests. */
  readonly app: FastifyInstance;
  readonly metrics: NotificationMetrics;
  readonly registry: Registry;
  readonly health: HealthRegistry;
  readonly retention: RetentionJob;
  /** The outbox worker; undefined when no outputs are configured. */
  readonly delivery: DeliveryWorker | undefined;
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

  const auth = new BearerAuth([...(await resolveApiTokens(config)), ...(deps.tokens ?? [])], {
    readRequiresToken: config.readRequiresToken,
  });
  if (!auth.configured) logger.warn('no API token configured (API_TOKENS, API_TOKENS_FILE): every request that needs a token gets 401');

  const outputs = 'outputs' in deps ? deps.outputs : loadOutputs(config, deps.env ?? process.env);
  let senders: SenderSet | undefined;
  let delivery: DeliveryWorker | undefined;
  if (outputs !== undefined) {
    senders = createSenders(outputs.outputs.values(), { store: store.response, metrics, logger: logger.child({ component: 'response' }) });
    const worker = new DeliveryWorker({
      outbox: store.outbox,
      silences: store.silences,
      senders,
      policy: outputs.delivery,
      logger: logger.child({ component: 'delivery' }),
      metrics,
      leaseMs: config.outboxLeaseMs,
      pollMs: config.outboxPollMs,
      batchSize: config.outboxBatchSize,
    });
    store.setDeliveryPlanner(createDeliveryPlanner(outputs, () => worker.wake()));
    delivery = worker;
    logger.info({ outputs: [...outputs.outputs.keys()] }, 'notification outputs configured');
  }

  // Dashboard users' addresses are kept only while a crowdsec output may need them.
  const responders = [...(outputs?.outputs.values() ?? [])].filter((output) => output.type === 'crowdsec');
  const operatorForgetMs = responders.length === 0 ? undefined : Math.max(...responders.map((output) => output.operatorAllowMs));
  for (const output of responders) logger.info({ output: output.name, mode: output.mode, duration_ms: output.durationMs }, 'response output configured');

  if (config.migrateOnStart) await migrateWithRetry(store, logger, stopping.signal);
  const exceptionsWriter = await openExceptionsWriter(config.exceptionsFile, store, logger);
  await broker.declareQueues([config.alertQueue]);
  delivery?.start();

  const consumer: AlertConsumer = startAlertConsumer({
    broker,
    store,
    queue: config.alertQueue,
    prefetch: config.rabbit.prefetch,
    logger,
    metrics,
  });

  // The API shows each alert's silence state; ingest and the outbox work on the store itself.
  const annotator = new SilenceAnnotator(store.silences);
  const apiStore = silenceAwareStore(store, annotator);
  const sse = new SseHub({ store: apiStore, logger, metrics, keepAliveMs: deps.sseKeepAliveMs ?? 15_000 });
  const app = createHttpServer({
    logger,
    health,
    metricsRegistry: registry,
    beforeRoutes: (server) => {
      registerScopeEnforcement(server, auth);
      registerOpenApi(server, auth);
    },
  });
  // Inside a plugin, so the OpenAPI generator registered before sees these routes.
  app.register(async (api) => {
    registerAlertRoutes(api, { store: apiStore, sse, metrics, now });
    registerSilenceRoutes(api, { silences: store.silences, annotator, now });
    registerDeliveryRoutes(api, { store });
    registerResponseRoutes(api, { store, senders, metrics, logger });
    registerOperatorAddressRoute(api, { store: store.response, logger, forgetAfterMs: operatorForgetMs });
    registerExceptionRoutes(api, { exceptions: store.exceptions, writer: exceptionsWriter, filePath: config.exceptionsFile, registry, logger, now });
  });
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
    abort: async () => {
      await consumer.close();
      await delivery?.stop();
      senders?.close();
    },
    drain: async () => {
      stopping.abort();
      await retention.stop();
      await consumer.close();
      // After the consumer: its last batches may still enqueue notifications.
      await delivery?.stop();
      senders?.close();
      await sse.close();
    },
    close: () => store.close(),
  });
  retention.start();
  return { ...service, app, metrics, registry, health, retention, delivery };
}

/**
 * The writer of EXCEPTIONS_FILE when this service may write it; a missing file is created from the
 * stored exceptions, so the analysis (started after this in the all-in-one) finds one.
 */
async function openExceptionsWriter(path: string | undefined, store: AlertStore, logger: Logger): Promise<ExceptionsFileWriter | undefined> {
  if (path === undefined) return undefined;
  const writer = new ExceptionsFileWriter(path, logger);
  if (!(await writer.writable())) {
    logger.info({ exceptions_file: path }, 'the exceptions file is read-only here: saved exceptions are stored; commit GET /exceptions.yaml to Git');
    return undefined;
  }
  if (!(await writer.exists())) await writer.write((await store.exceptions.list()).map(toEntry));
  return writer;
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
