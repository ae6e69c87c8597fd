import { isIP } from 'node:net';
import { type BaseConfig, type Env, EnvReader, readBaseConfig } from '@auditflow/common';
import { defineEnv, envAccessors } from '@auditflow/common/platform';

/** The dashboard's variables (docs/configuration.md is generated from this). */
export const DASHBOARD_ENV = defineEnv({
  APP_PORT: { type: 'port', default: 8080, description: 'UI, `/healthz`, `/readyz`, `/metrics`' },
  NOTIFICATION_SERVICE_URL: {
    type: 'url',
    protocols: ['http:', 'https:'],
    description: 'e.g. `http://notification-service:8000`; wins over the split form',
  },
  NOTIFICATION_SERVICE_HOST: { type: 'string', default: 'localhost', description: '' },
  NOTIFICATION_SERVICE_PORT: { type: 'port', default: 8000, description: '' },
  NOTIFICATION_API_TOKEN: {
    type: 'secret',
    description: 'bearer token used server-side for acknowledge/resolve; the browser never sees it. Without it the buttons are disabled',
  },
  REQUEST_TIMEOUT_MS: { type: 'int', default: 5000, min: 100, max: 120_000, description: 'timeout of calls to the notification API' },
  TRUSTED_PROXIES: {
    type: 'list',
    description:
      'comma-separated addresses and CIDR ranges of reverse proxies (e.g. the ingress controller\'s pod range) whose `X-Forwarded-For` names the user; without it the socket peer is the user. The user address is reported to the notification service so crowdsec outputs never ban it (docs/outputs.md)',
  },
});
type DashboardEnv = ReturnType<typeof envAccessors<typeof DASHBOARD_ENV>>;

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
  /** Proxies whose X-Forwarded-For is believed (addresses or CIDR ranges). */
  trustedProxies: string[];
}

/**
 * Parses the dashboard's environment (docs/configuration.md) once, collecting
 * every problem so a bad deployment names all of its wrong variables.
 * Pure: reads only the env it is given.
 */
export function loadDashboardConfig(env: Env): DashboardConfig {
  const reader = new EnvReader(env);
  const read = envAccessors(DASHBOARD_ENV, reader);
  const base = readBaseConfig(reader);
  const port = read.APP_PORT();
  const requestTimeoutMs = read.REQUEST_TIMEOUT_MS();
  const notificationUrl = readNotificationUrl(reader, read);
  const apiToken = read.NOTIFICATION_API_TOKEN();
  if (apiToken !== undefined && /\s/.test(apiToken)) {
    reader.fail('NOTIFICATION_API_TOKEN', 'must not contain whitespace');
  }
  const trustedProxies = read.TRUSTED_PROXIES() ?? [];
  for (const entry of trustedProxies) {
    if (!isAddressOrRange(entry)) reader.fail('TRUSTED_PROXIES', `"${entry}" is not an IP address or CIDR range`);
  }
  reader.done();
  return { base, port, host: '0.0.0.0', notificationUrl, apiToken, requestTimeoutMs, trustedProxies };
}

function isAddressOrRange(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

function readNotificationUrl(reader: EnvReader, read: DashboardEnv): string {
  const url = read.NOTIFICATION_SERVICE_URL();
  if (url) {
    if (url.search !== '' || url.hash !== '') {
      reader.fail('NOTIFICATION_SERVICE_URL', 'must not carry a query or fragment');
    }
    if (url.username !== '' || url.password !== '') {
      reader.fail('NOTIFICATION_SERVICE_URL', 'must not carry credentials (use NOTIFICATION_API_TOKEN)');
    }
    return url.toString().replace(/\/+$/, '');
  }
  const host = read.NOTIFICATION_SERVICE_HOST();
  const port = read.NOTIFICATION_SERVICE_PORT();
  // A host with a scheme, path or port would silently build a wrong URL.
  if (!/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/.test(host)) {
    reader.fail('NOTIFICATION_SERVICE_HOST', `must be a bare host name or IP address, got "${host}"`);
  }
  if (port === 0) reader.fail('NOTIFICATION_SERVICE_PORT', 'must be between 1 and 65535');
  return `http://${host}:${port}`;
}
