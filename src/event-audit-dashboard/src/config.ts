import { type BaseConfig, type Env, EnvReader, readBaseConfig } from '@auditflow/common';

export interface DashboardConfig {
  base: BaseConfig;
  /** HTTP port of the UI, probes and /metrics (0 picks a free port). */
  port: number;
  /** Interface to bind; the container must listen on all of them for probes to reach it. */
  host: string;
  /** Base URL of the notification-service REST API, without a trailing slash. */
  notificationUrl: string;
  /** Bearer token for PATCH /alerts/{id}; undefined disables the status buttons. */
  apiToken: string | undefined;
  /** Timeout of every call to the notification API (streams excepted). */
  requestTimeoutMs: number;
  /** The generator whose demo stream the list page shows and controls (GENERATOR_URL); optional. */
  generatorUrl?: string;
  /** Bearer token with the scope generator:control (GENERATOR_CONTROL_TOKEN): enables Pause/Resume. */
  generatorToken?: string;
}

/**
 * Parses the dashboard's environment (docs/configuration.md) once, collecting
 * every problem so a bad deployment names all of its wrong variables.
 * Pure: reads only the env it is given.
 */
export function loadDashboardConfig(env: Env): DashboardConfig {
  const reader = new EnvReader(env);
  const base = readBaseConfig(reader);
  const port = reader.port('APP_PORT', 8080);
  const requestTimeoutMs = reader.int('REQUEST_TIMEOUT_MS', 5000, { min: 100, max: 120_000 });
  const notificationUrl = readNotificationUrl(reader);
  const apiToken = reader.raw('NOTIFICATION_API_TOKEN');
  if (apiToken !== undefined && /\s/.test(apiToken)) {
    reader.fail('NOTIFICATION_API_TOKEN', 'must not contain whitespace');
  }
  const generatorUrl = reader.url('GENERATOR_URL', ['http:', 'https:'])?.toString().replace(/\/$/, '');
  const generatorToken = reader.raw('GENERATOR_CONTROL_TOKEN');
  if (generatorToken !== undefined && /\s/.test(generatorToken)) reader.fail('GENERATOR_CONTROL_TOKEN', 'must not contain whitespace');
  if (generatorToken !== undefined && generatorUrl === undefined) reader.fail('GENERATOR_CONTROL_TOKEN', 'needs GENERATOR_URL (the generator to control)');
  reader.done();
  return {
    base,
    port,
    host: '0.0.0.0',
    notificationUrl,
    apiToken,
    requestTimeoutMs,
    ...(generatorUrl === undefined ? {} : { generatorUrl }),
    ...(generatorToken === undefined ? {} : { generatorToken }),
  };
}

function readNotificationUrl(reader: EnvReader): string {
  const url = reader.url('NOTIFICATION_SERVICE_URL', ['http:', 'https:']);
  if (url) {
    if (url.search !== '' || url.hash !== '') {
      reader.fail('NOTIFICATION_SERVICE_URL', 'must not carry a query or fragment');
    }
    if (url.username !== '' || url.password !== '') {
      reader.fail('NOTIFICATION_SERVICE_URL', 'must not carry credentials (use NOTIFICATION_API_TOKEN)');
    }
    return url.toString().replace(/\/+$/, '');
  }
  const host = reader.string('NOTIFICATION_SERVICE_HOST', 'localhost');
  const port = reader.port('NOTIFICATION_SERVICE_PORT', 8000);
  // A host with a scheme, path or port would silently build a wrong URL.
  if (!/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/.test(host)) {
    reader.fail('NOTIFICATION_SERVICE_HOST', `must be a bare host name or IP address, got "${host}"`);
  }
  if (port === 0) reader.fail('NOTIFICATION_SERVICE_PORT', 'must be between 1 and 65535');
  return `http://${host}:${port}`;
}
