import { BlockList } from 'node:net';
import { AuditFlowError } from '@auditflow/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type DashboardAuthConfig, parseCidr } from '../config.ts';
import { PERSON_NAME } from './users-file.ts';
import type { SessionStore } from './sessions.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The person behind the request, once authenticated. */
    person?: { name: string; via: 'session' | 'forward-auth' };
  }
}

export const SESSION_COOKIE = 'af_session';

/** Probes and metrics answer kubelet and Prometheus, which address the pod by IP. */
const UNGUARDED = new Set(['/healthz', '/readyz', '/metrics']);
/** Reachable before logging in: the login form itself and the CSS it uses. */
const PUBLIC = (path: string) => path === '/login' || path.startsWith('/assets/');

export class HostNotAllowedError extends AuditFlowError {
  constructor(host: string) {
    super('AF_HOST_NOT_ALLOWED', `this dashboard does not answer to the host "${host.slice(0, 100)}" (DASHBOARD_ALLOWED_HOSTS)`, { statusCode: 421 });
  }
}

export class LoginRequiredError extends AuditFlowError {
  constructor() {
    super('AF_LOGIN_REQUIRED', 'log in to the dashboard first (POST /login)', { statusCode: 401 });
  }
}

export interface Authenticator {
  /** Whether the connection comes from a configured identity proxy. */
  fromTrustedProxy(request: FastifyRequest): boolean;
  /** Whether cookies for this request must be Secure. */
  secure(request: FastifyRequest): boolean;
}

/**
 * Three checks before any route sees a request:
 * 1. `Host` must be an allowed name: a page on attacker.example that rebinds
 *    its name to this address sends `Host: attacker.example`, and the CSRF
 *    check (Origin equals Host) alone would let it through.
 * 2. Who is it: a forward-auth header, believed only from a configured proxy
 *    address (anyone else could send it), else the session cookie.
 * 3. Everything but the login form and assets needs a person: pages redirect
 *    to /login, the JSON API answers 401.
 */
export function registerAuthentication(app: FastifyInstance, config: DashboardAuthConfig, sessions: SessionStore): Authenticator {
  const proxies = new BlockList();
  for (const entry of config.forwardAuthProxies) {
    const [address, prefix, family] = parseCidr(entry)!;
    proxies.addSubnet(address, prefix, family);
  }
  const allowed = config.allowedHosts;
  const fromTrustedProxy = (request: FastifyRequest): boolean => {
    if (config.forwardAuthProxies.length === 0) return false;
    const remote = request.socket.remoteAddress ?? '';
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remote);
    const address = mapped ? mapped[1]! : remote;
    const family = address.includes(':') ? 'ipv6' : 'ipv4';
    return address !== '' && proxies.check(address, family);
  };

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (UNGUARDED.has(path)) return;
    const host = firstHeader(request, 'host') ?? '';
    if (!hostAllowed(host, allowed)) throw new HostNotAllowedError(host);

    if (fromTrustedProxy(request)) {
      const name = firstHeader(request, config.forwardAuthHeader)?.trim();
      if (name !== undefined && PERSON_NAME.test(name)) request.person = { name, via: 'forward-auth' };
    }
    if (request.person === undefined) {
      const session = sessions.get(cookie(request, SESSION_COOKIE));
      if (session) request.person = { name: session.person, via: 'session' };
    }
    if (request.person !== undefined || PUBLIC(path)) return;
    if (request.method === 'GET' && !path.startsWith('/api/')) {
      return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
    }
    throw new LoginRequiredError();
  });

  return {
    fromTrustedProxy,
    secure: (request) => {
      if (config.cookieSecure !== 'auto') return config.cookieSecure === 'true';
      if ('encrypted' in request.socket && request.socket.encrypted) return true;
      return fromTrustedProxy(request) && firstHeader(request, 'x-forwarded-proto') === 'https';
    },
  };
}

/** `Host` without its port, checked against names and `*.suffix` wildcards. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const name = (/^(\[[^\]]*\]|[^:]*)(:\d{1,5})?$/.exec(host.toLowerCase())?.[1] ?? '').replace(/\.$/, '');
  if (name === '') return false;
  return allowed.some((entry) => (entry.startsWith('*.') ? name.endsWith(entry.slice(1)) : name === entry));
}

export function cookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function firstHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? undefined : text;
}
