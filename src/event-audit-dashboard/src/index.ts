import { listen, type ServiceHandle } from '@auditflow/common';
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
  const port = await listen(server.app, options.config.port, options.config.host, 'APP_PORT');
  const shown = options.config.host === '0.0.0.0' ? '127.0.0.1' : options.config.host;
  const base = `http://${shown}:${port}`;
  let stopping: Promise<void> | undefined;
  return {
    name: SERVICE_NAME,
    urls: { http: base, metrics: `${base}/metrics` },
    stop() {
      stopping ??= (async () => {
        server.health.startDraining();
        server.streams.closeAll();
        await server.app.close();
      })();
      return stopping;
    },
  };
}
