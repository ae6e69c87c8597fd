import { assertAlert, BodyDecodeError, type BodyDecodeFailure, decodeJsonObject, PermanentError, ValidationError, AfAlertOversizedError, AfAlertInvalidUtf8Error, AfAlertInvalidJsonError, AfAlertNotObjectError, AfAlertSchemaError, AfAlertUnstorableError, AfAlertRejectedByDatabaseError, type ErrorCode } from '@auditflow/common';
import { toAlertRecord, unstorableTextAt } from '../store/alert-record.ts';
import type { AlertRecord } from '../store/alert-store.ts';

/** An alert carries its source event, so it may be larger than an event, but not unboundedly. */
export const MAX_ALERT_BYTES = 256 * 1024;

export type DeadLetterReason = BodyDecodeFailure | 'schema' | 'unstorable' | 'rejected_by_database';

/** A message that can never be stored; `reason` labels notification_dead_letter_total. */
const CODES: Record<DeadLetterReason, ErrorCode> = {
  oversized: AfAlertOversizedError.code,
  invalid_utf8: AfAlertInvalidUtf8Error.code,
  invalid_json: AfAlertInvalidJsonError.code,
  not_object: AfAlertNotObjectError.code,
  schema: AfAlertSchemaError.code,
  unstorable: AfAlertUnstorableError.code,
  rejected_by_database: AfAlertRejectedByDatabaseError.code,
};

export class UndeliverableAlertError extends PermanentError {
  readonly reason: DeadLetterReason;
  constructor(reason: DeadLetterReason, message: string, cause?: unknown) {
    super(CODES[reason], message, cause === undefined ? {} : { cause });
    this.reason = reason;
  }
}

/** The original analysis service wrote `+00:00Z` (two zone designators); the instant is still clear. */
const DOUBLE_ZONE = /([+-]\d{2}:\d{2})Z$/;

/** Bytes off the queue to a storable record, or an UndeliverableAlertError naming why not. */
export function decodeAlert(body: Buffer): AlertRecord {
  let value: Record<string, unknown>;
  try {
    value = decodeJsonObject(body, MAX_ALERT_BYTES, 'alert');
  } catch (error) {
    if (error instanceof BodyDecodeError) throw new UndeliverableAlertError(error.reason, error.message, error);
    throw error;
  }
  const timestamp = value['timestamp'];
  if (typeof timestamp === 'string' && DOUBLE_ZONE.test(timestamp)) value['timestamp'] = timestamp.slice(0, -1);
  let record: AlertRecord;
  try {
    record = toAlertRecord(assertAlert(value));
  } catch (error) {
    if (error instanceof ValidationError) throw new UndeliverableAlertError('schema', error.message, error);
    throw error;
  }
  const unstorable = unstorableTextAt(value);
  if (unstorable !== undefined) {
    throw new UndeliverableAlertError(
      'unstorable',
      `${unstorable} holds U+0000 or an unpaired surrogate, which PostgreSQL cannot store; refused rather than altered`,
    );
  }
  return record;
}
