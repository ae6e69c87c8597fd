import {
  type AuditEvent,
  assertAuditEvent,
  BodyDecodeError,
  type BodyDecodeFailure,
  decodeJsonObject,
  MAX_EVENT_BYTES,
  PermanentError,
  type SkewDirection,
  ValidationError,
  withBoundedTime,
} from '@auditflow/common';

/** Why a message was refused, as the `reason` label of audit_analysis_dead_letter_total. */
export type DecodeFailure = BodyDecodeFailure | 'schema';

export const DECODE_ERROR_CODES: Record<DecodeFailure, string> = {
  oversized: 'AF_EVENT_TOO_LARGE',
  invalid_utf8: 'AF_EVENT_INVALID_UTF8',
  invalid_json: 'AF_EVENT_INVALID_JSON',
  too_deep: 'AF_EVENT_TOO_DEEP',
  not_object: 'AF_EVENT_NOT_OBJECT',
  schema: 'AF_EVENT_SCHEMA',
};

/** A message that can never become an event; the broker dead-letters it with this reason. */
export class EventDecodeError extends PermanentError {
  readonly reason: DecodeFailure;
  constructor(reason: DecodeFailure, message: string, details?: unknown) {
    super(DECODE_ERROR_CODES[reason], message, { details });
    this.reason = reason;
  }
}

export interface DecodedEvent {
  event: AuditEvent;
  /** Event time in epoch milliseconds. */
  ts: number;
  /** Set when the claimed time lay beyond the future skew: ts is then the receive time. */
  skew?: SkewDirection;
}

/** When the event is received and how far ahead of that its claimed time may lie. */
export interface ReceiveTime {
  now: number;
  maxFutureSkewMs: number;
}

/**
 * Decodes at the edge by the common body rule, then the event schema and a
 * real timestamp, bounded by `received`: no event reaches a window, an episode
 * or a watermark later than the receive time plus the future skew. Past times
 * are left alone here (they can only be late, and a backlog after an outage is
 * legitimately old); the producers bound those where the record is received.
 */
export function decodeEvent(body: Uint8Array, received?: ReceiveTime): DecodedEvent {
  let value: Record<string, unknown>;
  try {
    value = decodeJsonObject(body, MAX_EVENT_BYTES, 'event');
  } catch (error) {
    if (error instanceof BodyDecodeError) throw new EventDecodeError(error.reason, error.message);
    throw error;
  }
  let event: AuditEvent;
  try {
    event = assertAuditEvent(value);
  } catch (error) {
    if (error instanceof ValidationError) throw new EventDecodeError('schema', error.message, error.details);
    throw error;
  }
  const ts = Date.parse(event.timestamp);
  if (Number.isNaN(ts)) throw new EventDecodeError('schema', `timestamp '${event.timestamp}' is not a valid instant`);
  if (received === undefined) return { event, ts };
  const bounded = withBoundedTime(event, ts, received.now, { maxFutureSkewMs: received.maxFutureSkewMs, maxPastSkewMs: Number.POSITIVE_INFINITY });
  if (bounded.skew === undefined) return { event, ts };
  return { event: bounded.event, ts: received.now, skew: bounded.skew };
}
