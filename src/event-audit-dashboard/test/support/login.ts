import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import type { Browser, BrowserContext } from 'playwright-core';
import type { DashboardServer } from '../../src/index.ts';

/** The test people; hashes made once with `auditflow hash-password` (test passwords, not secrets). */
export const TEST_USER = 'dana';
export const TEST_PASSWORD = 'correct-horse-battery';
export const OTHER_USER = 'erik';
export const OTHER_PASSWORD = 'staple-battery-horse';
const USERS = `# test users
${TEST_USER}:scrypt$15$8$1$RfdIb8k31gxHLKi9Ez0TnQ$mGgPdPJbZvAGSv1kd6VHKnpNAvWHsjt4XU1yS4bGU3U
${OTHER_USER}:scrypt$15$8$1$bdy2KyjPVLusBUcBcnXK_Q$g8Ng9PrwkNBayh5b9vYV4cHMyfJzTp0BG54lntcZm6Y
`;

const dir = mkdtempSync(join(tmpdir(), 'af-dashboard-users-'));
export const USERS_FILE = join(dir, 'users');
writeFileSync(USERS_FILE, USERS, { mode: 0o600 });

/** The env a test dashboard needs to start: the users, and the test host names next to the defaults. */
export const AUTH_ENV: Readonly<Record<string, string>> = {
  DASHBOARD_USERS_FILE: USERS_FILE,
  DASHBOARD_ALLOWED_HOSTS: 'localhost,127.0.0.1,dashboard.test',
};

/** Logs in through POST /login of a listening dashboard; returns the `name=value` of the session cookie. */
export async function loginCookie(baseUrl: string, user = TEST_USER, password = TEST_PASSWORD): Promise<string> {
  const response = await fetch(`${baseUrl}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(baseUrl).origin },
    body: new URLSearchParams({ username: user, password, next: '/' }).toString(),
  });
  const set = response.headers.get('set-cookie');
  if (response.status !== 303 || set === null) throw new Error(`login as ${user} failed: ${response.status}`);
  return set.split(';')[0]!;
}

/**
 * Logs a test person in on an inject()-only server and makes every later
 * inject() carry the session cookie, so route tests read as before.
 */
export async function signIn(server: DashboardServer, user = TEST_USER, password = TEST_PASSWORD): Promise<DashboardServer> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost', host: 'localhost' },
    payload: new URLSearchParams({ username: user, password, next: '/' }).toString(),
  });
  const set = response.headers['set-cookie'];
  if (response.statusCode !== 303 || typeof set !== 'string') throw new Error(`login as ${user} failed: ${response.statusCode}`);
  const cookie = set.split(';')[0]!;
  const inject = server.app.inject.bind(server.app) as (options: InjectOptions) => ReturnType<typeof server.app.inject>;
  const withCookie = (options: InjectOptions | string) => {
    const opts: InjectOptions = typeof options === 'string' ? { url: options } : options;
    return inject({ ...opts, headers: { cookie, ...(opts.headers as Record<string, string> | undefined) } });
  };
  (server.app as unknown as { inject: typeof withCookie }).inject = withCookie;
  return server;
}

/** Gives a browser context the session of a logged-in test person. */
export async function signInBrowser(context: BrowserContext, baseUrl: string, user = TEST_USER, password = TEST_PASSWORD): Promise<void> {
  const [name, value] = (await loginCookie(baseUrl, user, password)).split('=') as [string, string];
  await context.addCookies([{ name, value, url: baseUrl, httpOnly: true, sameSite: 'Strict' }]);
}

/**
 * The browser with every new context (and page) already logged in to the
 * dashboard at `baseUrl`, for tests about what a logged-in person sees.
 */
export function signedInBrowser(browser: Browser, baseUrl: string): Browser {
  const newContext = async (...args: Parameters<Browser['newContext']>): Promise<BrowserContext> => {
    const context = await browser.newContext(...args);
    await signInBrowser(context, baseUrl);
    return context;
  };
  return new Proxy(browser, {
    get(target, property) {
      if (property === 'newContext') return newContext;
      if (property === 'newPage') return async (...args: Parameters<Browser['newContext']>) => (await newContext(...args)).newPage();
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
