import { assertAlert, PermanentError, ValidationError } from '@auditflow/common';
import { toAlertRecord } from '../store/alert-record.ts';
import type { AlertRecord } from '../store/alert-store.ts';

/** An alert carries its source event, so it may be larger than an event, but not unboundedly. */
export const MAX_ALERT_BYTES = 256 * 1024;

export type DeadLetterReason = 'oversized' | 'invalid_utf8' | 'invalid_json' | 'schema' | 'rejected_by_database';

/** A message that can never be stored; `reason` labels notification_dead_letter_total. */
export class UndeliverableAlertError extends PermanentError {
  readonly reason: DeadLetterReason;
  constructor(reason: DeadLetterReason, message: string, cause?: unknown) {
    super(`AF_ALERT_${reason.toUpperCase()}`, message, cause === undefined ? {} : { cause });
    this.reason = reason;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The original analysis service wrote `+00:00Z` (two zone designators); the instant is still clear. */
const DOUBLE_ZONE = /([+-]\d{2}:\d{2})Z$/;

/** Bytes off the queue to a storable record, or an UndeliverableAlertError naming why not. */
export function decodeAlert(body: Buffer): AlertRecord {
  if (body.length > MAX_ALERT_BYTES) {
    throw new UndeliverableAlertError('oversized', `alert of ${body.length} bytes exceeds ${MAX_ALERT_BYTES}`);
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch (error) {
    throw new UndeliverableAlertError('invalid_utf8', 'alert body is not valid UTF-8', error);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UndeliverableAlertError('invalid_json', `alert body is not JSON: ${(error as Error).message}`, error);
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const timestamp = (value as Record<string, unknown>)['timestamp'];
    if (typeof timestamp === 'string' && DOUBLE_ZONE.test(timestamp)) {
      (value as Record<string, unknown>)['timestamp'] = timestamp.slice(0, -1);
    }
  }
  try {
    return toAlertRecord(assertAlert(value));
  } catch (error) {
    if (error instanceof ValidationError) throw new UndeliverableAlertError('schema', error.message, error);
    throw error;
  }
}
