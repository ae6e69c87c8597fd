import { type AuditEvent, assertAuditEvent, MAX_EVENT_BYTES, PermanentError, ValidationError } from '@auditflow/common';

/** Why a message was refused, as the `reason` label of audit_analysis_dead_letter_total. */
export type DecodeFailure = 'oversized' | 'invalid_utf8' | 'invalid_json' | 'schema';

export const DECODE_ERROR_CODES: Record<DecodeFailure, string> = {
  oversized: 'AF_EVENT_TOO_LARGE',
  invalid_utf8: 'AF_EVENT_INVALID_UTF8',
  invalid_json: 'AF_EVENT_INVALID_JSON',
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
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes at the edge: size, then UTF-8, then JSON, then the event schema and a real timestamp. */
export function decodeEvent(body: Uint8Array): DecodedEvent {
  if (body.byteLength > MAX_EVENT_BYTES) {
    throw new EventDecodeError('oversized', `event of ${body.byteLength} bytes exceeds the ${MAX_EVENT_BYTES}-byte limit`);
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw new EventDecodeError('invalid_utf8', 'event body is not valid UTF-8');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new EventDecodeError('invalid_json', `event body is not JSON: ${(error as Error).message}`);
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
  return { event, ts };
}
