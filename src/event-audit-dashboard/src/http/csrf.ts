import { assertJsonContentType } from '@auditflow/common';
import type { FastifyRequest } from 'fastify';
import { CsrfRejectedError } from '../errors.ts';

/**
 * Guards the one state-changing route. Two independent checks, both required:
 * - the body must be application/json, which a cross-site form or a "simple"
 *   fetch cannot send without a CORS preflight (and this server answers none);
 * - the browser must say the request is same-origin: Sec-Fetch-Site when it
 *   sends it, and the Origin header matching this host otherwise.
 * Requests without either header (curl, scripts) are refused too: they should
 * call the notification API with their own token instead.
 */
export function assertSameOriginJson(request: FastifyRequest): void {
  assertJsonContentType(request);
  assertSameOrigin(request);
}

/**
 * The same-origin half alone, for the login and logout forms (which a browser
 * posts as a form). `Host` itself is checked against DASHBOARD_ALLOWED_HOSTS
 * before this runs, so an Origin equal to it is one of the dashboard's own names.
 */
export function assertSameOrigin(request: FastifyRequest): void {
  const site = header(request, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin') {
    throw new CsrfRejectedError(`cross-site request refused (Sec-Fetch-Site: ${site})`);
  }
  const origin = header(request, 'origin');
  if (origin === undefined) {
    if (site === undefined) throw new CsrfRejectedError('request without Origin or Sec-Fetch-Site refused');
    return;
  }
  const host = header(request, 'host');
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw new CsrfRejectedError('malformed Origin header');
  }
  if (host === undefined || originHost.toLowerCase() !== host.toLowerCase()) {
    throw new CsrfRejectedError('cross-origin request refused');
  }
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text === '' ? undefined : text;
}
