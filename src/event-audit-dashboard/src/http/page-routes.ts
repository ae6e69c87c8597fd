import { AlertIdParamsSchema, AuditFlowError, errorMessage, problem, sendProblem, ValidationError, validationProblem, AfInvalidParameterError, AfRouteNotFoundError } from '@auditflow/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AlertPage, NotificationClient } from '../backend/notification-client.ts';
import type { AlertResponse, ResponseApi } from '../backend/response-api.ts';
import type { Delivery, TriageApi } from '../backend/triage-api.ts';
import { BackendRejectedError } from '../errors.ts';
import { detailPage } from '../views/detail-page.ts';
import { PAGE_HEADERS } from '../views/layout.ts';
import { listPage, type StatsView } from '../views/list-page.ts';
import { backendDownPage, messagePage } from '../views/states.ts';
import type { AssetBundle } from './assets.ts';
import {
  type AlertFilters,
  backendListParams,
  backendStatsParams,
  DEFAULT_PAGE_SIZE,
  parseFilters,
  timeWindow,
} from './filters.ts';
import { PageQuerySchema, splitViewOptions, type ViewOptions } from './view-options.ts';

export interface PageRouteOptions {
  client: NotificationClient;
  triage: TriageApi;
  /** The alert page's response section; without it the section is not shown. */
  response?: ResponseApi;
  assets: AssetBundle;
  actionsEnabled: boolean;
  logger: Logger;
  now?: () => Date;
}

/**
 * The two pages, rendered completely on the server so they are useful
 * without JavaScript. Their status codes tell the truth: 503 when the
 * notification service is down, 404/400 for unknown or malformed ids (the
 * original always answered 200).
 */
export function registerPageRoutes(app: FastifyInstance, options: PageRouteOptions): void {
  const now = options.now ?? (() => new Date());
  const { client, assets } = options;

  const send = (reply: FastifyReply, status: number, body: string) =>
    reply.status(status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(body);

  /** A filter the page cannot read: the list page again, with the problem named (400). */
  const badFilters = (reply: FastifyReply, message: string) =>
    send(reply, 400, listPage({ assets, filters: emptyFilters(), page: undefined, stats: undefined, filterError: message }));
  const invalidId = (reply: FastifyReply) =>
    send(
      reply,
      400,
      messagePage({
        assets,
        title: 'Invalid alert id',
        heading: 'That is not a valid alert id',
        message: 'Alert ids are UUIDs such as 3f0c2a9e-8d1b-4c6e-9f7a-1b2c3d4e5f60. Check the link you followed.',
        links: [{ href: '/', label: '← All alerts' }],
      }),
    );
  // Schema and query errors of a page get a page, not a problem document; anything else goes to the shared handler.
  const pageErrors = (render: (reply: FastifyReply, message: string) => FastifyReply) =>
    async function pageErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
      if (isValidation(error)) return render(reply, validationProblem(error, request).detail ?? error.message);
      if (error instanceof AuditFlowError && error.code === AfInvalidParameterError.code) return render(reply, error.message);
      throw error;
    };

  app.get('/', { schema: { querystring: PageQuerySchema }, errorHandler: pageErrors(badFilters) }, async (request, reply) => {
    let filters: AlertFilters;
    let view: ViewOptions;
    try {
      const split = splitViewOptions(request.query as Record<string, unknown>);
      view = split.view;
      filters = parseFilters(split.rest);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return badFilters(reply, error.message);
    }
    const shown = { view, actionsEnabled: options.actionsEnabled };
    const at = now();
    const statsQuery = backendStatsParams(filters, at);
    const [listResult, statsResult] = await Promise.allSettled([
      client.listAlerts(backendListParams(filters, at, { paging: true })),
      client.stats(statsQuery.params),
    ]);
    if (listResult.status === 'rejected') {
      const error = listResult.reason;
      if (error instanceof BackendRejectedError && error.statusCode === 400) {
        return send(reply, 400, listPage({ assets, filters, ...shown, page: undefined, stats: undefined, filterError: error.message }));
      }
      options.logger.warn(logFields(error), 'alert list unavailable');
      return send(reply, 503, listPage({ assets, filters, ...shown, page: undefined, stats: undefined, backendError: describe(error) }));
    }
    let stats: StatsView | undefined;
    if (statsResult.status === 'fulfilled') {
      stats = {
        stats: statsResult.value,
        bucket: statsQuery.bucket,
        since: statsQuery.params.since,
        until: timeWindow(filters, at).until ?? at.toISOString(),
      };
    } else {
      options.logger.warn(logFields(statsResult.reason), 'alert statistics unavailable');
    }
    const page: AlertPage = listResult.value;
    return send(reply, 200, listPage({ assets, filters, ...shown, page, stats }));
  });

  registerNotFoundPage(app, assets, send);

  const detailRoute = { schema: { params: AlertIdParamsSchema }, errorHandler: pageErrors(invalidId) };
  app.get<{ Params: { id: string } }>('/alert/:id', detailRoute, async (request, reply) => {
    const { id } = request.params;
    // Asked at once beside the alert; secondary, so a failure only becomes a note on the page.
    const deliveriesAnswer = options.triage.deliveries(id.toLowerCase()).then(
      (items): Delivery[] | string => items,
      (error: unknown) => describe(error),
    );
    const responseAnswer = options.response?.forAlert(id.toLowerCase()).then(
      (body): AlertResponse | string => body,
      (error: unknown) => describe(error),
    );
    try {
      const alert = await client.getAlert(id.toLowerCase());
      if (alert === undefined) {
        return send(
          reply,
          404,
          messagePage({
            assets,
            title: 'Alert not found',
            heading: 'Alert not found',
            message: `No alert with id ${id} exists. It may have been purged by the retention policy.`,
            links: [{ href: '/', label: '← All alerts' }],
          }),
        );
      }
      const deliveries = await deliveriesAnswer;
      const response = await responseAnswer;
      return send(reply, 200, detailPage({ assets, alert, actionsEnabled: options.actionsEnabled, deliveries, ...(response === undefined ? {} : { response }) }));
    } catch (error) {
      if (error instanceof AuditFlowError && error.statusCode < 500) throw error;
      options.logger.warn({ ...logFields(error), alert_id: id }, 'alert detail unavailable');
      return send(
        reply,
        503,
        backendDownPage({ assets, script: 'detail', retryHref: `/alert/${encodeURIComponent(id)}`, detail: describe(error) }),
      );
    }
  });
}

/**
 * A down backend is expected and repeats on every page view: one compact line
 * (code, reason, root cause) instead of a stack trace each time.
 */
function logFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof AuditFlowError)) return { err: error };
  const cause = error.cause instanceof Error ? (error.cause.cause ?? error.cause) : undefined;
  return { code: error.code, reason: error.message, ...(cause === undefined ? {} : { cause: errorMessage(cause) }) };
}

/**
 * Unknown GET paths: people who follow a stale link get a page with a way
 * back; API clients get the usual problem document.
 */
function registerNotFoundPage(app: FastifyInstance, assets: AssetBundle, send: (reply: FastifyReply, status: number, body: string) => FastifyReply): void {
  app.get('/*', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    if (path.startsWith('/api/') || !String(request.headers.accept ?? '').includes('text/html')) {
      return sendProblem(reply, problem(404, AfRouteNotFoundError.code, `no route GET ${path}`));
    }
    return send(
      reply,
      404,
      messagePage({
        assets,
        title: 'Page not found',
        heading: 'Page not found',
        message: 'There is no page at this address.',
        links: [{ href: '/', label: '← All alerts' }],
      }),
    );
  });
}

function isValidation(error: FastifyError): boolean {
  return Array.isArray(error.validation);
}

function describe(error: unknown): string {
  if (error instanceof AuditFlowError) return `${error.message} (${error.code})`;
  return errorMessage(error);
}

function emptyFilters(): AlertFilters {
  return {
    severity: [],
    status: undefined,
    ruleId: undefined,
    user: undefined,
    host: undefined,
    q: undefined,
    range: undefined,
    since: undefined,
    until: undefined,
    limit: DEFAULT_PAGE_SIZE,
    cursor: undefined,
  };
}
