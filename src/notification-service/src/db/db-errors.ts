import { AfAlertRejectedByDatabaseError, AfDatabaseUnavailableError } from '@auditflow/common/platform';

/**
 * What a failed statement means for the caller, from its SQLSTATE (both
 * drivers expose it as `code`): bad data can never succeed, an unreachable or
 * restarting server will.
 */
export type DbFailure = 'data' | 'transient' | 'unknown';

const TRANSIENT_CLASSES = ['08', '53', '57', '58', '40'];

export function classifyDbError(error: unknown): DbFailure {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    const sqlClass = code.slice(0, 2);
    if (sqlClass === '22' || sqlClass === '23') return 'data';
    if (TRANSIENT_CLASSES.includes(sqlClass)) return 'transient';
    return 'unknown';
  }
  // Socket-level failures (ECONNREFUSED, "Connection terminated", pool timeouts) carry no SQLSTATE.
  return 'transient';
}

/** The database is unreachable or restarting: retry later. */
export class DatabaseUnavailableError extends AfDatabaseUnavailableError {
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? String(cause), { cause });
  }
}

/** The database refused a value (out of range, too long, bad encoding): the alert can never be stored. */
export class InvalidAlertDataError extends AfAlertRejectedByDatabaseError {
  constructor(cause: unknown) {
    super((cause as Error)?.message ?? String(cause), {
      cause,
      statusCode: 422,
    });
  }
}

/** Wraps a driver error in the platform's typed errors; other errors pass through. */
export function toStoreError(error: unknown): unknown {
  const failure = classifyDbError(error);
  if (failure === 'transient') return new DatabaseUnavailableError(error);
  if (failure === 'data') return new InvalidAlertDataError(error);
  return error;
}
