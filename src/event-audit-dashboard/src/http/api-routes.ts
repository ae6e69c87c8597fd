import { AlertNotFoundError, ValidationError } from '@auditflow/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NotificationClient } from '../backend/notification-client.ts';
import { ActionsDisabledError } from '../errors.ts';
import { assertSameOriginJson } from './csrf.ts';
import { backendListParams, backendStatsParams, isAlertId, parseFilters, STATUSES, timeWindow } from './filters.ts';

export interface ApiRouteOptions {
  client: NotificationClient;
  apiToken: string | undefined;
  now?: () => Date;
}

/** Who the notification service records as having changed a status. */
export const ACTOR = 'event-audit-dashboard';

/**
 * The same-origin JSON API of the browser code. It validates everything
 * before a request reaches the notification service and never exposes the
 * API token: the browser only ever talks to this server.
 */
export function registerApiRoutes(app: FastifyInstance, options: ApiRouteOptions): void {
  const now = options.now ?? (() => new Date());
  const { client } = options;

  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/api/')) {
      reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');
    }
    return payload;
  });

  app.get('/api/alerts', async (request, reply) => {
    const filters = parseFilters(request.query as Record<string, unknown>);
    const page = await client.listAlerts(backendListParams(filters, now(), { paging: true }));
    if (page.nextCursor) reply.header('x-next-cursor', page.nextCursor);
    return { items: page.rows, next_cursor: page.nextCursor ?? null };
  });

  app.get('/api/alerts/stats', async (request) => {
    const filters = parseFilters(request.query as Record<string, unknown>);
    const at = now();
    const { params, bucket } = backendStatsParams(filters, at);
    const stats = await client.stats(params);
    const window = timeWindow(filters, at);
    return {
      ...stats,
      window: { bucket, since: params.get('since'), until: window.until ?? at.toISOString() },
    };
  });

  app.get<{ Params: { id: string } }>('/api/alerts/:id', async (request) => {
    const id = alertId(request.params.id);
    const alert = await client.getAlert(id);
    if (alert === undefined) throw new AlertNotFoundError(id);
    return alert;
  });

  // The CSRF check runs on request, before fastify even parses a body.
  const csrf = { onRequest: async (request: FastifyRequest) => assertSameOriginJson(request) };
  app.post<{ Params: { id: string } }>('/api/alerts/:id/status', csrf, async (request) => {
    const id = alertId(request.params.id);
    if (options.apiToken === undefined) throw new ActionsDisabledError();
    const change = statusChange(request.body);
    const updated = await client.changeStatus(id, { ...change, actor: ACTOR }, options.apiToken);
    if (updated === undefined) throw new AlertNotFoundError(id);
    return updated;
  });
}

function alertId(value: string): string {
  if (!isAlertId(value)) throw new ValidationError('alert id must be a UUID', [{ param: 'id', problem: 'is malformed' }]);
  return value.toLowerCase();
}

function statusChange(body: unknown): { status: string; note?: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError('the body must be a JSON object with a status');
  }
  const { status, note } = body as Record<string, unknown>;
  if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) {
    throw new ValidationError(`status must be one of ${STATUSES.join(', ')}`);
  }
  if (note !== undefined && note !== null && (typeof note !== 'string' || note.length > 1000)) {
    throw new ValidationError('note must be text of at most 1000 characters');
  }
  const trimmed = typeof note === 'string' ? note.trim() : '';
  return trimmed === '' ? { status } : { status, note: trimmed };
}
