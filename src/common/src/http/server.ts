import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifySchema,
  LogController,
} from 'fastify';
import type { Logger } from 'pino';
import { codeForFastifyError } from '../error-codes.ts';
import { AuditFlowError, EXIT_CONFIG, StartupError } from '../errors.ts';
import type { HealthRegistry } from '../health.ts';
import { Histogram, METRICS_CONTENT_TYPE, type Registry } from '../metrics.ts';
import { PROBLEM_CONTENT_TYPE, problem, sendProblem } from './problem.ts';
import { normaliseQuery, ROUTE_AJV_OPTIONS, validationProblem } from './route-validation.ts';

export interface HttpServerOptions {
  logger: Logger;
  health: HealthRegistry;
  /** Serve /metrics on this server too (notification and dashboard share one port). */
  metricsRegistry?: Registry;
  /** Registry for the request-duration histogram; defaults to metricsRegistry. */
  instrumentRegistry?: Registry;
  bodyLimit?: number;
  /**
   * Runs before any route is added, for plugins that must see every route
   * (e.g. @fastify/swagger's onRoute hook). Routes added at the root right
   * after an app.register() are not seen by it: add them inside a plugin.
   */
  beforeRoutes?: (app: FastifyInstance) => void;
  /** Serve HTTPS with these TLS options (certificate, key, and the CAs of client certificates). */
  https?: import('node:https').ServerOptions;
}

export const CORRELATION_HEADER = 'x-correlation-id';

/**
 * Fastify with the platform's conventions: probes, problem+json for every
 * error (including fastify's own 400/404/413/415), correlation ids and a
 * request-duration histogram.
 */
export function createHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    loggerInstance: options.logger as FastifyBaseLogger,
    // Per-request lines would drown the logs in probe traffic; errors are logged by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1_048_576,
    return503OnClosing: true,
    forceCloseConnections: true,
    requestIdHeader: CORRELATION_HEADER,
    genReqId: () => randomUUID(),
    ajv: ROUTE_AJV_OPTIONS,
    // Errors fastify answers before any route or hook runs: problem+json like every other error.
    frameworkErrors: (error, _request, reply) => {
      const status = error.statusCode ?? 400;
      const code = status === 414 ? 'AF_URI_TOO_LONG' : 'AF_BAD_REQUEST';
      return sendProblem(reply, problem(status, code, error.message));
    },
    clientErrorHandler: answerClientError,
  });
  // Response schemas document the API (OpenAPI); they must not filter what is sent.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addHook('preValidation', normaliseQuery);

  const registry = options.instrumentRegistry ?? options.metricsRegistry;
  const duration = registry
    ? new Histogram({
        name: 'http_request_duration_seconds',
        help: 'HTTP request duration by route and status',
        labelNames: ['method', 'route', 'status_code'],
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [registry],
      })
    : undefined;

  app.addHook('onSend', async (request, reply, payload) => {
    reply.header(CORRELATION_HEADER, request.id);
    return payload;
  });
  if (duration) {
    app.addHook('onResponse', async (request, reply) => {
      duration.observe(
        { method: request.method, route: request.routeOptions.url ?? 'unmatched', status_code: reply.statusCode },
        reply.elapsedTime / 1000,
      );
    });
  }

  app.setErrorHandler((error: FastifyError | AuditFlowError | Error, request, reply) => {
    if (error instanceof AuditFlowError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, 'request failed');
      return sendProblem(
        reply,
        problem(error.statusCode, error.code, error.message, error.details ? { errors: error.details } : {}),
      );
    }
    const fastifyError = error as FastifyError;
    const status = fastifyError.statusCode ?? 500;
    if (fastifyError.validation) return sendProblem(reply, validationProblem(fastifyError, request));
    if (status >= 400 && status < 500) {
      return sendProblem(reply, problem(status, codeForFastifyError(fastifyError.code, status), error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(reply, problem(500, 'AF_INTERNAL', 'internal error'));
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(404, 'AF_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  options.beforeRoutes?.(app);
  const { health, metricsRegistry } = options;
  app.register(async (routes) => {
    registerProbes(routes, health);
    if (metricsRegistry) registerMetricsRoute(routes, metricsRegistry);
  });
  return app;
}

/**
 * Errors Node's HTTP parser raises before there is a request at all (headers
 * over the size limit, a request that never finished, malformed HTTP): the
 * answer is written to the socket as problem+json, as fastify's default does
 * with its own JSON shape, and the connection closed.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'AF_HEADERS_TOO_LARGE', 'the request headers (or the URL) exceed the size limit']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'AF_REQUEST_TIMEOUT', 'the request was not completed in time']
        : [400, 'AF_BAD_REQUEST', 'malformed HTTP request'];
  const body = JSON.stringify(problem(status, code, detail));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** OpenAPI fields of an operation route (read by @fastify/swagger where a service serves a document). */
function documentation(summary: string): FastifySchema {
  return { tags: ['operations'], summary } as FastifySchema;
}

export function registerProbes(app: FastifyInstance, health: HealthRegistry): void {
  const operations = (summary: string) => ({ schema: documentation(summary) });
  app.get('/healthz', operations('Liveness: 200 {"status":"ok"} while the event loop runs; checks no dependency'), async () => ({
    status: 'ok',
  }));
  app.get('/readyz', operations('Readiness: 200 when every dependency answers now and the process is not draining, else 503'), async (_request, reply) => {
    const readiness = await health.readiness();
    return reply.status(readiness.ready ? 200 : 503).send({
      status: readiness.ready ? 'ready' : 'not_ready',
      draining: readiness.draining,
      checks: readiness.checks,
    });
  });
}

export function registerMetricsRoute(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', { schema: documentation('Prometheus text format') }, async (_request, reply) => {
    reply.type(METRICS_CONTENT_TYPE);
    return registry.metrics();
  });
}

/** A bare server for the Prometheus port of services that keep metrics apart from their API. */
export function createMetricsServer(options: { logger: Logger; registry: Registry }): FastifyInstance {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
  });
  registerMetricsRoute(app, options.registry);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(404, 'AF_ROUTE_NOT_FOUND', `no route ${request.method} ${request.url}`)),
  );
  return app;
}

/**
 * Listens and returns the bound port. A busy or forbidden port becomes a
 * StartupError (exit 78) naming `variable`, the setting that moves it.
 */
export async function listen(app: FastifyInstance, port: number, host = '0.0.0.0', variable = 'the port setting'): Promise<number> {
  try {
    await app.listen({ port, host });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
    const why = code === 'EADDRINUSE' ? 'is already in use by another process' : 'needs privileges this process does not have';
    throw new StartupError('AF_PORT_IN_USE', `port ${port} on ${host} ${why}; set ${variable} to a free port`, {
      variable,
      exitCode: EXIT_CONFIG,
      cause: error,
    });
  }
  const address = app.server.address();
  return typeof address === 'object' && address ? address.port : port;
}
