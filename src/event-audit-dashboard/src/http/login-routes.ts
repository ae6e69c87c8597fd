import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { type Authenticator, cookie, SESSION_COOKIE } from '../auth/authentication.ts';
import { burnPasswordCheck, verifyPassword } from '../auth/passwords.ts';
import type { SessionStore } from '../auth/sessions.ts';
import { PAGE_HEADERS } from '../views/layout.ts';
import { loginPage } from '../views/login-page.ts';
import type { AssetBundle } from './assets.ts';
import { assertSameOrigin } from './csrf.ts';

export interface LoginRouteOptions {
  assets: AssetBundle;
  users: ReadonlyMap<string, string>;
  sessions: SessionStore;
  auth: Authenticator;
  logger: Logger;
  /** Failed logins per client address before it must wait (a guesser's budget). */
  maxFailures?: number;
  failureWindowMs?: number;
}

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * GET /login (the form), POST /login (checks the password, starts a server-side
 * session in an HttpOnly, SameSite=Strict cookie) and POST /logout (ends it).
 * Failed logins are counted per client address: after `maxFailures` within
 * the window the address gets 429 until the window ends.
 */
export function registerLoginRoutes(app: FastifyInstance, options: LoginRouteOptions): void {
  const { assets, users, sessions, auth, logger } = options;
  const maxFailures = options.maxFailures ?? 10;
  const windowMs = options.failureWindowMs ?? 15 * 60_000;
  const failures = new Map<string, { count: number; until: number }>();

  app.addContentTypeParser(FORM_TYPE, { parseAs: 'string', bodyLimit: 4096 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  const page = (reply: FastifyReply, status: number, body: string) =>
    reply.status(status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(body);

  app.get('/login', async (request, reply) => {
    const next = localPath((request.query as Record<string, unknown>)['next']);
    if (request.person) return reply.redirect(next, 303);
    return page(reply, 200, loginPage({ assets, next, passwords: users.size > 0 }));
  });

  app.post('/login', { onRequest: async (request: FastifyRequest) => assertSameOrigin(request) }, async (request, reply) => {
    const form = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<string, unknown>;
    const name = typeof form['username'] === 'string' ? form['username'].trim().slice(0, 128) : '';
    const password = typeof form['password'] === 'string' ? form['password'].slice(0, 1024) : '';
    const next = localPath(form['next']);
    const client = request.ip;
    const now = Date.now();
    const seen = failures.get(client);
    if (seen && seen.until > now && seen.count >= maxFailures) {
      reply.header('retry-after', String(Math.ceil((seen.until - now) / 1000)));
      return page(reply, 429, loginPage({ assets, next, name, passwords: users.size > 0, problem: 'Too many failed logins from this address. Wait a few minutes and try again.' }));
    }
    const hash = users.get(name);
    let ok = false;
    if (hash === undefined) await burnPasswordCheck(password);
    else ok = await verifyPassword(password, hash);
    if (!ok) {
      const entry = seen && seen.until > now ? seen : { count: 0, until: now + windowMs };
      entry.count++;
      if (failures.size > 10_000) failures.clear();
      failures.set(client, entry);
      logger.warn({ user: name.slice(0, 64), client }, 'dashboard login failed');
      return page(reply, 401, loginPage({ assets, next, name, passwords: users.size > 0, problem: 'Wrong user name or password.' }));
    }
    failures.delete(client);
    // A new id on every login: a session id planted before logging in is worth nothing after.
    sessions.destroy(cookie(request, SESSION_COOKIE));
    const id = sessions.create(name);
    reply.header('set-cookie', sessionCookie(id, Math.floor(sessions.ttlMs / 1000), auth.secure(request)));
    logger.info({ user: name, client }, 'dashboard login');
    return reply.redirect(next, 303);
  });

  app.post('/logout', { onRequest: async (request: FastifyRequest) => assertSameOrigin(request) }, async (request, reply) => {
    sessions.destroy(cookie(request, SESSION_COOKIE));
    if (request.person) logger.info({ user: request.person.name }, 'dashboard logout');
    reply.header('set-cookie', sessionCookie('', 0, auth.secure(request)));
    return reply.redirect('/login', 303);
  });
}

export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

/** Only a path on this site: `//evil.example` and `/\\evil.example` are other sites to a browser. */
export function localPath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || value.length > 2000) return '/';
  if (value.startsWith('/login') || value.startsWith('/logout')) return '/';
  return [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) ? '/' : value;
}
