import { isIP } from 'node:net';
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
  /** Who may log in and how (docs/dashboard.md, "Logging in"). */
  auth: DashboardAuthConfig;
}

export interface DashboardAuthConfig {
  /** File of `name:scrypt-hash` lines (a Secret in the cluster); undefined when only forward auth is used. */
  usersFile: string | undefined;
  /** Host names (without port) the dashboard answers to: a DNS-rebinding page carries its own name in Host. */
  allowedHosts: string[];
  /** Addresses or CIDRs of identity proxies whose forward-auth header is believed; empty turns forward auth off. */
  forwardAuthProxies: string[];
  /** The header carrying the person's name from those proxies (Authelia: Remote-User, oauth2-proxy: X-Auth-Request-User). */
  forwardAuthHeader: string;
  sessionTtlMs: number;
  /** `auto`: Secure when the request came over TLS or from a trusted proxy that says https. */
  cookieSecure: 'auto' | 'true' | 'false';
}

/** What the all-in-one and a bare `npm start` of the dashboard answer to unless told otherwise. */
export const DEFAULT_ALLOWED_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

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
  const auth = readAuth(reader);
  reader.done();
  return { base, port, host: '0.0.0.0', notificationUrl, apiToken, requestTimeoutMs, auth };
}

const HOST_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$|^\[[0-9a-f:.]+\]$/;

function readAuth(reader: EnvReader): DashboardAuthConfig {
  const usersFile = reader.string('DASHBOARD_USERS_FILE');
  const allowedHosts = reader.list('DASHBOARD_ALLOWED_HOSTS', DEFAULT_ALLOWED_HOSTS).map((h) => h.toLowerCase());
  for (const host of allowedHosts) {
    if (!HOST_NAME.test(host)) reader.fail('DASHBOARD_ALLOWED_HOSTS', `"${host}" is not a host name or IP address (no scheme or port)`);
  }
  if (allowedHosts.length === 0) reader.fail('DASHBOARD_ALLOWED_HOSTS', 'must name at least one host');
  const forwardAuthProxies = reader.list('DASHBOARD_FORWARD_AUTH_PROXIES');
  for (const proxy of forwardAuthProxies) {
    if (parseCidr(proxy) === undefined) reader.fail('DASHBOARD_FORWARD_AUTH_PROXIES', `"${proxy}" is not an IP address or CIDR`);
  }
  const forwardAuthHeader = reader.string('DASHBOARD_FORWARD_AUTH_HEADER', 'Remote-User').toLowerCase();
  if (!/^[a-z0-9-]{1,64}$/.test(forwardAuthHeader)) reader.fail('DASHBOARD_FORWARD_AUTH_HEADER', 'must be a header name');
  const sessionTtlMs = reader.int('DASHBOARD_SESSION_TTL_MINUTES', 720, { min: 5, max: 43_200 }) * 60_000;
  const cookieSecure = reader.oneOf('DASHBOARD_COOKIE_SECURE', ['auto', 'true', 'false'] as const, 'auto');
  if (usersFile === undefined && forwardAuthProxies.length === 0) {
    reader.fail('DASHBOARD_USERS_FILE', 'is required (or DASHBOARD_FORWARD_AUTH_PROXIES): the dashboard has no open mode');
  }
  return { usersFile, allowedHosts, forwardAuthProxies, forwardAuthHeader, sessionTtlMs, cookieSecure };
}

/** `10.0.0.1` or `10.42.0.0/16` (IPv4 or IPv6) as [address, prefix, family]; undefined when malformed. */
export function parseCidr(text: string): [string, number, 'ipv4' | 'ipv6'] | undefined {
  const [address = '', prefixText] = text.split('/');
  const family = isIP(address);
  if (family === 0) return undefined;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return undefined;
  return [address, prefix, family === 4 ? 'ipv4' : 'ipv6'];
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
