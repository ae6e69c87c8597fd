import { type ServiceHandle, startHttpService } from '@auditflow/common';
import type { Logger } from 'pino';
import type { DashboardConfig } from './config.ts';
import { buildDashboardServer, SERVICE_NAME } from './server.ts';

export { type DashboardConfig, loadDashboardConfig } from './config.ts';
export * from './errors.ts';
export { buildDashboardServer, type DashboardServer, SERVICE_NAME } from './server.ts';

export interface StartDashboardOptions {
  config: DashboardConfig;
  logger: Logger;
  /** The HTTP client for the notification API (tests inject failures through it). */
  fetch?: typeof fetch;
}

/**
 * Starts the dashboard on config.port (0 picks a free port). stop() fails
 * readiness, ends the live streams (their upstream connections with them)
 * and closes the server.
 */
export async function startDashboard(options: StartDashboardOptions): Promise<ServiceHandle> {
  const logger = options.logger.child({ component: SERVICE_NAME });
  const server = await buildDashboardServer({
    config: options.config,
    logger,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return startHttpService({
    name: SERVICE_NAME,
    host: options.config.host,
    health: server.health,
    listeners: [{ name: 'http', app: server.app, port: options.config.port, variable: 'APP_PORT', alsoServes: { metrics: '/metrics' } }],
    drain: () => server.streams.closeAll(),
  });
}
export { ensureFirstAdmin, FIRST_ADMIN } from './auth/first-admin.ts';
export { hashPassword, verifyPassword } from './auth/passwords.ts';
