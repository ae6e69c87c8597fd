import { AfEventTooLargeError, AfEventInvalidUtf8Error, AfEventInvalidJsonError, AfEventNotObjectError, AfEventSchemaError } from '@auditflow/common/platform';
import {
  type AuditEvent,
  assertAuditEvent,
  BodyDecodeError,
  type BodyDecodeFailure,
  decodeJsonObject,
  MAX_EVENT_BYTES,
  PermanentError,
  ValidationError,
} from '@auditflow/common';

/** Why a message was refused, as the `reason` label of audit_analysis_dead_letter_total. */
export type DecodeFailure = BodyDecodeFailure | 'schema';

export const DECODE_ERROR_CODES: Record<DecodeFailure, string> = {
  oversized: AfEventTooLargeError.code,
  invalid_utf8: AfEventInvalidUtf8Error.code,
  invalid_json: AfEventInvalidJsonError.code,
  not_object: AfEventNotObjectError.code,
  schema: AfEventSchemaError.code,
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

/** Decodes at the edge by the common body rule, then the event schema and a real timestamp. */
export function decodeEvent(body: Uint8Array): DecodedEvent {
  let value: Record<string, unknown>;
  try {
    value = decodeJsonObject(body, MAX_EVENT_BYTES, 'event');
  } catch (error) {
    if (error instanceof BodyDecodeError) throw new EventDecodeError(error.reason, error.message);
    throw error;
  }
  // Enrichment is computed by the analysis, never taken from a producer (docs/enrichment.md).
  delete value['enrichment'];
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
