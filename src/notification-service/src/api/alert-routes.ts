import { AlertIdParamsSchema, AlertSchema, AlertStatsQuerySchema, type AlertStatsQuery, AlertStatsSchema, AlertWithHistorySchema, type ListAlertsQuery, CORRELATION_HEADER, jsonBodyRoute, ListAlertsQuerySchema, ProblemSchema, problem, type StatusChange, StatusChangeSchema, sendProblem, AfTooManyStreamsError } from '@auditflow/common';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NotificationMetrics } from '../metrics.ts';
import type { AlertStore } from '../store/alert-store.ts';
import { toListQuery, toStatsQuery } from './alert-query.ts';
import { AlertNotFoundError } from '@auditflow/common/platform';
import { encodeCursor } from './cursor.ts';
import type { SseHub } from './sse-hub.ts';
import { toStatusChange } from './status-body.ts';

export interface AlertRoutesDeps {
  store: AlertStore;
  sse: SseHub;
  metrics: NotificationMetrics;
  now: () => Date;
}

const JSON_TYPE = 'application/json; charset=utf-8';

const problemRef = (description: string) => ({ description, ...Type.Ref(ProblemSchema) });
const alertIdParams = { params: AlertIdParamsSchema };
const idErrors = {
  400: problemRef('The id is not a UUID (AF_INVALID_ALERT_ID).'),
  404: problemRef('No such alert (AF_ALERT_NOT_FOUND).'),
  503: problemRef('The database is unavailable (AF_DATABASE_UNAVAILABLE).'),
};

/**
 * The REST API of docs/api.md. The route schemas (from @auditflow/common)
 * validate every request and are the source of GET /openapi.json; rows
 * arrive from the store as JSON text and are sent untouched.
 */
export function registerAlertRoutes(app: FastifyInstance, deps: AlertRoutesDeps): void {
  const { store, sse, metrics } = deps;

  app.get<{ Querystring: ListAlertsQuery }>(
    '/alerts',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['alerts'],
        operationId: 'listAlerts',
        summary: 'List alerts, newest first',
        description:
          'A plain JSON array (compatible with the original service), ordered by (timestamp DESC, alert_id DESC). ' +
          'Page with `cursor` (keyset, stable under inserts) or `offset`. A full page carries `X-Next-Cursor` and a ' +
          '`Link: <...>; rel="next"` header; a shorter page is the last. No total count is computed.',
        querystring: ListAlertsQuerySchema,
        response: {
          200: Type.Array(Type.Ref(AlertSchema), {
            description: 'The page of alerts.',
            headers: {
              'x-next-cursor': Type.String({ description: 'cursor of the next page (only on a full page)' }),
              link: Type.String({ description: 'RFC 8288 link to the next page, rel="next"' }),
            },
          }),
          400: problemRef('A bad limit, offset, cursor or parameter: AF_INVALID_LIMIT, AF_INVALID_OFFSET, AF_INVALID_CURSOR, AF_INVALID_PARAMETER or AF_UNKNOWN_PARAMETER.'),
          503: idErrors[503],
        },
      },
    },
    async (request, reply) => {
      const page = await store.listAlerts(toListQuery(request.query));
      if (page.next) {
        const cursor = encodeCursor(page.next);
        reply.header('x-next-cursor', cursor);
        reply.header('link', `<${nextPageUrl(request, cursor)}>; rel="next"`);
      }
      return reply.type(JSON_TYPE).send(jsonArray(page.rows));
    },
  );

  app.get<{ Querystring: AlertStatsQuery }>(
    '/alerts/stats',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['alerts'],
        operationId: 'alertStats',
        summary: 'Counts by severity, status and rule, and a timeline',
        description:
          'Same filters as the list. The window is [since, until), default the last 24 hours ending now; at most 5000 buckets. ' +
          'The timeline lists every bucket of the window, empty ones included; by_rule the 50 most frequent rules.',
        querystring: AlertStatsQuerySchema,
        response: { 200: Type.Ref(AlertStatsSchema), 400: problemRef('A bad parameter or window.'), 503: idErrors[503] },
      },
    },
    async (request) => store.stats(toStatsQuery(request.query, deps.now())),
  );

  app.get(
    '/alerts/stream',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['alerts'],
        operationId: 'streamAlerts',
        summary: 'Server-Sent Events of new and changed alerts',
        description:
          'Events `alert.created` and `alert.updated` with `data:` the alert row JSON and a monotonically increasing `id:`. ' +
          'Changes made through any replica arrive (PostgreSQL LISTEN/NOTIFY). A `: keep-alive` comment is sent every 15 s. ' +
          'Events are not replayed after a reconnect (Last-Event-ID is ignored): re-read GET /alerts.',
        querystring: Type.Object({}, { additionalProperties: false }),
        response: {
          200: { description: 'The event stream.', content: { 'text/event-stream': { schema: Type.String() } } },
          503: problemRef('Too many stream clients (AF_TOO_MANY_STREAMS) or the database is unavailable.'),
        },
      },
    },
    async (request, reply) => {
      if (sse.full) return sendProblem(reply, problem(503, AfTooManyStreamsError.code, 'too many open alert streams; retry later'));
      await sse.ready();
      reply.hijack();
      sse.attach(reply.raw, { [CORRELATION_HEADER]: String(request.id) });
      return reply;
    },
  );

  app.get<{ Params: { id: string } }>(
    '/alerts/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['alerts'],
        operationId: 'getAlert',
        summary: 'One alert with its status history',
        ...alertIdParams,
        response: { 200: Type.Ref(AlertWithHistorySchema, { description: 'The alert.' }), ...idErrors },
      },
    },
    async (request, reply) => {
      const id = request.params.id.toLowerCase();
      const json = await store.getAlert(id);
      if (json === undefined) throw new AlertNotFoundError(id);
      return reply.type(JSON_TYPE).send(json);
    },
  );

  app.patch<{ Params: { id: string }; Body: StatusChange }>(
    '/alerts/:id',
    {
      config: { scope: 'ack' },
      ...jsonBodyRoute(),
      schema: {
        tags: ['alerts'],
        operationId: 'changeAlertStatus',
        summary: 'Acknowledge, resolve or reopen an alert',
        description:
          'Writes the status and a history row in one transaction and emits `alert.updated`. Setting the status it already has without a new note changes nothing.',
        ...alertIdParams,
        body: Type.Ref(StatusChangeSchema),
        response: {
          200: Type.Ref(AlertSchema, { description: 'The updated alert.' }),
          ...idErrors,
          400: problemRef('The id is not a UUID (AF_INVALID_ALERT_ID), or the body is invalid (AF_INVALID_BODY).'),
          413: problemRef('The body is larger than 16 KiB (AF_BODY_TOO_LARGE).'),
          415: problemRef('The body is not application/json (AF_UNSUPPORTED_MEDIA_TYPE).'),
        },
      },
    },
    async (request, reply) => {
      const id = request.params.id.toLowerCase();
      const change = toStatusChange(request.body, request.apiToken?.name);
      const result = await store.updateStatus(id, change);
      if (result === undefined) throw new AlertNotFoundError(id);
      if (result.changed) {
        if (result.previous !== change.status) metrics.statusChanges.inc({ status: change.status });
        request.log.info(
          { alert_id: id, from: result.previous, to: change.status, actor: change.actor, token: request.apiToken?.name },
          'alert status changed',
        );
      }
      return reply.type(JSON_TYPE).send(result.json);
    },
  );
}

/**
 * The rows as one JSON array in one flat string. The brackets go into the join itself: added
 * around its result they made a cons string, flattened again (a copy of the whole page, tens of
 * kB) before Content-Length could be counted; that copy was ~20% of the young-generation
 * collections under load. A string rather than a Buffer: buffers that size are external memory,
 * which drove V8 into a full collection every ~100 ms under load (measured slower, larger RSS).
 */
function jsonArray(rows: readonly string[]): string {
  if (rows.length === 0) return '[]';
  const parts = rows.slice();
  parts[0] = `[${parts[0]}`;
  parts[parts.length - 1] = `${parts[parts.length - 1]}]`;
  return parts.join(',');
}

/** The same request with the cursor moved on; offset is dropped because the cursor already skips those rows. */
function nextPageUrl(request: FastifyRequest, cursor: string): string {
  const url = new URL(request.url, 'http://localhost');
  url.searchParams.delete('offset');
  url.searchParams.set('cursor', cursor);
  return `${url.pathname}${url.search}`;
}
