import { AuditFlowError, CORRELATION_HEADER, problem, sendProblem } from '@auditflow/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { NotificationMetrics } from '../metrics.ts';
import type { AlertStore } from '../store/alert-store.ts';
import { AlertNotFoundError, assertAlertId } from './api-errors.ts';
import type { BearerAuth } from './bearer-auth.ts';
import { encodeCursor } from './cursor.ts';
import { openApiDocument } from './openapi.ts';
import { parseListQuery, parseStatsQuery, type RawQuery } from './query-params.ts';
import type { SseHub } from './sse-hub.ts';
import { parseStatusChange } from './status-body.ts';

export interface AlertRoutesDeps {
  store: AlertStore;
  auth: BearerAuth;
  sse: SseHub;
  metrics: NotificationMetrics;
  now: () => Date;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The REST API of docs/api.md (openapi.ts is its source). Rows arrive as JSON text and are sent untouched. */
export function registerAlertRoutes(app: FastifyInstance, deps: AlertRoutesDeps): void {
  const { store, auth, sse, metrics } = deps;
  const openApiJson = JSON.stringify(openApiDocument);

  app.get('/openapi.json', async (_request, reply) => reply.type(JSON_TYPE).send(openApiJson));

  app.get('/alerts', async (request, reply) => {
    const query = parseListQuery(request.query as RawQuery);
    const page = await store.listAlerts(query);
    if (page.next) {
      const cursor = encodeCursor(page.next);
      reply.header('x-next-cursor', cursor);
      reply.header('link', `<${nextPageUrl(request, cursor)}>; rel="next"`);
    }
    return reply.type(JSON_TYPE).send(jsonArray(page.rows));
  });

  app.get('/alerts/stats', async (request) => store.stats(parseStatsQuery(request.query as RawQuery, deps.now())));

  app.get('/alerts/stream', async (request, reply) => {
    if (sse.full) return sendProblem(reply, problem(503, 'AF_TOO_MANY_STREAMS', 'too many open alert streams; retry later'));
    await sse.ready();
    reply.hijack();
    sse.attach(reply.raw, { [CORRELATION_HEADER]: String(request.id) });
    return reply;
  });

  app.get('/alerts/:id', async (request, reply) => {
    const id = assertAlertId((request.params as { id: string }).id);
    const json = await store.getAlert(id);
    if (json === undefined) throw new AlertNotFoundError(id);
    return reply.type(JSON_TYPE).send(json);
  });

  app.patch('/alerts/:id', { onRequest: async (request, reply) => authenticate(auth, request, reply) }, async (request, reply) => {
    const id = assertAlertId((request.params as { id: string }).id);
    // fastify would also parse text/plain; the API takes JSON only.
    if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) {
      throw new AuditFlowError('AF_UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json', { statusCode: 415 });
    }
    const change = parseStatusChange(request.body);
    const result = await store.updateStatus(id, change);
    if (result === undefined) throw new AlertNotFoundError(id);
    if (result.changed) {
      if (result.previous !== change.status) metrics.statusChanges.inc({ status: change.status });
      request.log.info(
        { alert_id: id, from: result.previous, to: change.status, actor: change.actor },
        'alert status changed',
      );
    }
    return reply.type(JSON_TYPE).send(result.json);
  });
}

/** The bearer-token check of the write routes (the api team's scope hook replaces it). */
export async function authenticate(auth: BearerAuth, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  try {
    auth.verify(request.headers.authorization);
  } catch (error) {
    reply.header('www-authenticate', 'Bearer realm="auditflow"');
    throw error;
  }
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
