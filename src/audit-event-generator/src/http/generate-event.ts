import { randomUUID } from 'node:crypto';
import {
  assertAuditEvent,
  type AuditEvent,
  AuditFlowError,
  codeForFastifyError,
  MAX_EVENT_BYTES,
  problem,
  sendProblem,
  ValidationError,
} from '@auditflow/common';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HOSTS, SOURCE_SERVICES, syntheticSource, USERS } from '../catalog.ts';
import { pick } from '../random.ts';
import type { RouteDeps } from './deps.ts';
import { assertJsonContentType, isPlainObject } from './request-body.ts';

/** The original's 400 message, kept word for word for old clients that show it. */
export const LEGACY_MISSING_EVENT_TYPE = "Invalid event data. 'event_type' is required.";

/**
 * POST /generate_event, compatible with the original (section 2.2): the
 * caller's fields pass through, the generator owns event_id, timestamp and
 * source_service, and absent fields get the original's defaults. Unlike the
 * original, the result must be a valid event and 202 means the broker
 * confirmed it.
 */
export function registerGenerateEvent(app: FastifyInstance, deps: RouteDeps): void {
  app.post('/generate_event', { bodyLimit: MAX_EVENT_BYTES, errorHandler: legacyErrorHandler }, async (request, reply) => {
    assertJsonContentType(request);
    const body: unknown = request.body;
    if (!isPlainObject(body) || !Object.hasOwn(body, 'event_type')) {
      throw new ValidationError(LEGACY_MISSING_EVENT_TYPE, [{ path: '/event_type', message: "missing required field 'event_type'" }]);
    }
    const event = fillLegacyEvent(body, deps);
    if (Buffer.byteLength(JSON.stringify(event)) > MAX_EVENT_BYTES) {
      throw new AuditFlowError('AF_EVENT_TOO_LARGE', `event larger than ${MAX_EVENT_BYTES} bytes`, { statusCode: 413 });
    }
    await deps.publisher.publish(event);
    return reply.status(202).send({ status: 'success', event_id: event.event_id });
  });
}

function fillLegacyEvent(body: Record<string, unknown>, deps: RouteDeps): AuditEvent {
  const defaults: Record<string, () => unknown> = {
    server_hostname: () => pick(deps.random, HOSTS),
    user_id: () => pick(deps.random, USERS),
    action_result: () => 'SUCCESS',
    severity: () => 'INFO',
    details: () => ({}),
  };
  const candidate: Record<string, unknown> = { ...body };
  for (const [key, value] of Object.entries(defaults)) {
    if (!Object.hasOwn(candidate, key)) candidate[key] = value();
  }
  candidate['event_id'] = randomUUID();
  candidate['timestamp'] = new Date(deps.clock()).toISOString();
  candidate['source_service'] = SOURCE_SERVICES.api;
  // Made up here whatever the caller sent: never passed off as a real record.
  candidate['source'] = syntheticSource('generate_event');
  return assertAuditEvent(candidate);
}

/**
 * Problem details as everywhere else, plus the legacy `error` key the
 * original's clients read, for every error of this route (including fastify's
 * own 400/413/415).
 */
function legacyErrorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof AuditFlowError) {
    if (error.statusCode >= 500) request.log.error({ err: error }, 'generate_event failed');
    const body = problem(error.statusCode, error.code, error.message, error.details ? { errors: error.details } : {});
    return sendProblem(reply, { ...body, error: error.message } as typeof body);
  }
  const fastifyError = error as FastifyError;
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const body = problem(status, codeForFastifyError(fastifyError.code, status), error.message);
    return sendProblem(reply, { ...body, error: error.message } as typeof body);
  }
  request.log.error({ err: error }, 'generate_event failed');
  const body = problem(500, 'AF_INTERNAL', 'internal error');
  return sendProblem(reply, { ...body, error: 'internal error' } as typeof body);
}
