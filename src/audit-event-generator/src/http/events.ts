import { randomUUID } from 'node:crypto';
import { type AuditEvent, assertAuditEvent, type FieldError, MAX_EVENT_BYTES, problem, sendProblem, ValidationError, AfPublishFailedError, AfBatchTooLargeError } from '@auditflow/common';
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from './deps.ts';
import { assertJsonContentType, isPlainObject } from './request-body.ts';

/** Largest batch accepted by POST /events. */
export const MAX_BATCH_EVENTS = 1000;

/** Room for a full batch of ordinary events; each one is still held to MAX_EVENT_BYTES. */
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

export interface ItemError extends FieldError {
  index: number;
}

/**
 * POST /events: one event or an array of events in the contract's shape.
 * All or nothing: if any item is invalid nothing is published; otherwise
 * every event is published and 202 answers only after every confirm.
 */
export function registerEvents(app: FastifyInstance, deps: RouteDeps): void {
  app.post('/events', { bodyLimit: MAX_BATCH_BYTES }, async (request, reply) => {
    assertJsonContentType(request);
    const items = toItems(request.body);
    const { events, errors } = validateBatch(items, deps.clock);
    if (errors.length > 0) {
      throw new ValidationError(`${new Set(errors.map((e) => e.index)).size} of ${items.length} events are invalid`, errors);
    }
    const { confirmed, failed } = await deps.publisher.publishAll(events);
    if (failed.length > 0) {
      request.log.error({ confirmed: confirmed.length, failed: failed.length }, 'batch only partly published');
      const body = problem(
        503,
        AfPublishFailedError.code,
        `${failed.length} of ${events.length} events were not confirmed by the broker; resend them (event ids make a resend safe)`,
      );
      return sendProblem(reply, {
        ...body,
        accepted: confirmed.length,
        event_ids: confirmed,
        failed_event_ids: failed.map((f) => f.event_id),
      } as typeof body);
    }
    return reply.status(202).send({ accepted: confirmed.length, event_ids: confirmed });
  });
}

function toItems(body: unknown): unknown[] {
  if (body === undefined) throw new ValidationError('a JSON event or array of events is required');
  const items = Array.isArray(body) ? body : [body];
  if (items.length === 0) throw new ValidationError('the batch is empty');
  if (items.length > MAX_BATCH_EVENTS) {
    throw new AfBatchTooLargeError(MAX_BATCH_EVENTS, 'events', items.length);
  }
  return items;
}

/**
 * Fills the two fields a producer may leave to the generator (event_id, and
 * timestamp = now) and validates each item against the event schema. Errors
 * carry the item's index so a client can fix exactly what was wrong.
 */
export function validateBatch(items: readonly unknown[], clock: () => number): { events: AuditEvent[]; errors: ItemError[] } {
  const events: AuditEvent[] = [];
  const errors: ItemError[] = [];
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (!isPlainObject(item)) {
      errors.push({ index, path: '/', message: 'must be a JSON object' });
      return;
    }
    const candidate: Record<string, unknown> = { ...item };
    if (!Object.hasOwn(candidate, 'event_id')) candidate['event_id'] = randomUUID();
    if (!Object.hasOwn(candidate, 'timestamp')) candidate['timestamp'] = new Date(clock()).toISOString();
    let event: AuditEvent;
    try {
      event = assertAuditEvent(candidate);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      for (const detail of error.details as FieldError[]) errors.push({ index, ...detail });
      return;
    }
    if (Buffer.byteLength(JSON.stringify(event)) > MAX_EVENT_BYTES) {
      errors.push({ index, path: '/', message: `event larger than ${MAX_EVENT_BYTES} bytes` });
      return;
    }
    // The id is the message id downstream: a repeat inside one batch would be dropped as a redelivery.
    if (seen.has(event.event_id)) {
      errors.push({ index, path: '/event_id', message: `duplicate event_id ${event.event_id} in this batch` });
      return;
    }
    seen.add(event.event_id);
    events.push(event);
  });
  return { events, errors };
}
