import { ALERT_STATUSES, AlertIdParamsSchema, AlertNotFoundError, DEFAULT_JSON_BODY_BYTES } from '@auditflow/common';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NotificationClient } from '../backend/notification-client.ts';
import { ActionsDisabledError } from '../errors.ts';
import { assertSameOriginJson } from './csrf.ts';
import { backendListParams, backendStatsParams, FilterQuerySchema, parseFilters, timeWindow } from './filters.ts';

export const MAX_DASHBOARD_NOTE = 1000;

/** The browser's status change; the dashboard adds the actor itself. */
const StatusBodySchema = Type.Object(
  {
    status: Type.Unsafe<(typeof ALERT_STATUSES)[number]>({ type: 'string', enum: [...ALERT_STATUSES] }),
    note: Type.Optional(Type.Unsafe<string | null>({ type: ['string', 'null'], maxLength: MAX_DASHBOARD_NOTE })),
  },
  { additionalProperties: false },
);
type StatusBody = { status: (typeof ALERT_STATUSES)[number]; note?: string | null };

export interface ApiRouteOptions {
  client: NotificationClient;
  apiToken: string | undefined;
  now?: () => Date;
}

/** Who the notification service records when no person is known (never on a route that needs a login). */
export const ACTOR = 'event-audit-dashboard';

/**
 * The person recorded on a status change or silence: the logged-in person
 * (docs/dashboard.md, "Logging in"), never a name the browser sends.
 */
export function actorOf(request: FastifyRequest): string {
  return request.person?.name ?? ACTOR;
}

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

  const filterQuery = { schema: { querystring: FilterQuerySchema } };
  app.get('/api/alerts', filterQuery, async (request, reply) => {
    const filters = parseFilters(request.query as Record<string, unknown>);
    const page = await client.listAlerts(backendListParams(filters, now(), { paging: true }));
    if (page.nextCursor) reply.header('x-next-cursor', page.nextCursor);
    return { items: page.rows, next_cursor: page.nextCursor ?? null };
  });

  app.get('/api/alerts/stats', filterQuery, async (request) => {
    const filters = parseFilters(request.query as Record<string, unknown>);
    const at = now();
    const { params, bucket } = backendStatsParams(filters, at);
    const stats = await client.stats(params);
    const window = timeWindow(filters, at);
    return {
      ...stats,
      window: { bucket, since: params.since, until: window.until ?? at.toISOString() },
    };
  });

  app.get<{ Params: { id: string } }>('/api/alerts/:id', { schema: { params: AlertIdParamsSchema } }, async (request) => {
    const id = request.params.id.toLowerCase();
    const alert = await client.getAlert(id);
    if (alert === undefined) throw new AlertNotFoundError(id);
    return alert;
  });

  // The CSRF check (with the JSON content type) runs on request, before fastify even reads a body.
  const statusRoute = {
    onRequest: async (request: FastifyRequest) => assertSameOriginJson(request),
    bodyLimit: DEFAULT_JSON_BODY_BYTES,
    schema: { params: AlertIdParamsSchema, body: StatusBodySchema },
  };
  app.post<{ Params: { id: string }; Body: StatusBody }>('/api/alerts/:id/status', statusRoute, async (request) => {
    const id = request.params.id.toLowerCase();
    if (options.apiToken === undefined) throw new ActionsDisabledError();
    const note = request.body.note?.trim() ?? '';
    const change = note === '' ? { status: request.body.status } : { status: request.body.status, note };
    const updated = await client.changeStatus(id, { ...change, actor: actorOf(request) }, options.apiToken);
    if (updated === undefined) throw new AlertNotFoundError(id);
    return updated;
  });
}
