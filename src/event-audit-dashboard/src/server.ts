import { createHttpServer, createRegistry, HealthRegistry } from '@auditflow/common';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ExceptionsApi } from './backend/exceptions-api.ts';
import { BackendMetrics } from './backend/metrics.ts';
import { NotificationClient } from './backend/notification-client.ts';
import { ResponseApi } from './backend/response-api.ts';
import { TriageApi } from './backend/triage-api.ts';
import type { DashboardConfig } from './config.ts';
import { registerApiRoutes } from './http/api-routes.ts';
import { type AssetBundle, loadAssets, registerAssetRoutes } from './http/assets.ts';
import { registerCompression } from './http/compress.ts';
import { ClientAddressResolver } from './http/client-address.ts';
import { registerExceptionRoutes } from './http/exception-routes.ts';
import { registerPageRoutes } from './http/page-routes.ts';
import { registerResponseRoutes } from './http/response-routes.ts';
import { registerStreamRoute, type StreamHub } from './http/stream-route.ts';
import { registerTriageRoutes } from './http/triage-routes.ts';

export const SERVICE_NAME = 'event-audit-dashboard';

export interface DashboardServer {
  app: FastifyInstance;
  health: HealthRegistry;
  streams: StreamHub;
  assets: AssetBundle;
}

export interface BuildOptions {
  config: DashboardConfig;
  logger: Logger;
  fetch?: typeof fetch;
  /** Asset directory override (tests). */
  assetDir?: string;
  now?: () => Date;
}

/** Wires the dashboard without listening, so tests can use inject(). */
export async function buildDashboardServer(options: BuildOptions): Promise<DashboardServer> {
  const { config, logger } = options;
  const registry = createRegistry(SERVICE_NAME);
  const health = new HealthRegistry({ timeoutMs: Math.min(config.requestTimeoutMs, 2000) });
  const client = new NotificationClient({
    baseUrl: config.notificationUrl,
    timeoutMs: config.requestTimeoutMs,
    metrics: new BackendMetrics(registry),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  // Readiness really asks the notification API: a dashboard that cannot show alerts is not ready.
  health.register('notification_api', () => client.checkHealth());

  const assets = await loadAssets(options.assetDir);
  const app = createHttpServer({ logger, health, metricsRegistry: registry });
  registerCompression(app);
  registerAssetRoutes(app, assets);
  registerApiRoutes(app, { client, apiToken: config.apiToken, ...(options.now ? { now: options.now } : {}) });
  const streams = registerStreamRoute(app, { client, logger });
  const triage = new TriageApi(client);
  registerTriageRoutes(app, { client, triage, assets, apiToken: config.apiToken, logger });
  const response = new ResponseApi(client);
  const addresses = new ClientAddressResolver(config.trustedProxies);
  registerResponseRoutes(app, { response, addresses, apiToken: config.apiToken, logger });
  registerExceptionRoutes(app, { exceptions: new ExceptionsApi(client), assets, apiToken: config.apiToken, logger });
  registerPageRoutes(app, {
    client,
    triage,
    response,
    assets,
    actionsEnabled: config.apiToken !== undefined,
    logger,
    ...(options.now ? { now: options.now } : {}),
  });
  return { app, health, streams, assets };
}
