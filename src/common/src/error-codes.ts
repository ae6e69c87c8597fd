/**
 * Every stable `AF_*` code of the platform, in one place (fastify's
 * lib/errors.js pattern): the HTTP status a request gets, or the exit code a
 * start-up ends with, and the message template. docs/errors.md has one row per
 * code; a test keeps the two and the sources in step.
 */
export interface ErrorCodeSpec {
  /** HTTP status of a request that fails with it (500 for codes that never reach HTTP). */
  readonly status: number;
  /** Exit code when the code ends a process at start-up. */
  readonly exit?: number;
  /** Message template; `%s` placeholders take the constructor's arguments in order. */
  readonly message: string;
}

export const ERROR_CODES = {
  // Start-up and configuration (exit codes; sysexits 78 EX_CONFIG, 69 EX_UNAVAILABLE)
  AF_CONFIG_INVALID: { status: 500, exit: 78, message: 'invalid configuration: %s' },
  AF_PORT_IN_USE: { status: 500, exit: 78, message: 'port %s is in use; set %s to a free port' },
  AF_BROKER_UNREACHABLE: { status: 500, exit: 69, message: 'cannot reach RabbitMQ at %s; check %s' },
  AF_BROKER_REFUSED: { status: 500, exit: 78, message: 'RabbitMQ refused the connection at %s; check %s' },
  AF_DATABASE_UNREACHABLE: { status: 500, exit: 69, message: 'cannot reach PostgreSQL at %s; check %s' },
  AF_DATABASE_REFUSED: { status: 500, exit: 78, message: 'PostgreSQL at %s refused: %s; check %s' },
  AF_DATA_DIR_LOCKED: { status: 500, exit: 69, message: 'the data directory %s is in use by process %s' },
  AF_RULES_INVALID: { status: 400, exit: 78, message: 'invalid rules file %s: %s' },
  AF_MIGRATION_FAILED: { status: 500, exit: 1, message: '%s' },
  AF_CLI_USAGE: { status: 400, exit: 2, message: '%s' },
  AF_OUTPUTS_INVALID: { status: 500, exit: 78, message: 'invalid outputs file %s: %s' },
  AF_EXCEPTIONS_INVALID: { status: 500, exit: 78, message: 'invalid exceptions file %s: %s' },
  AF_HOSTS_INVALID: { status: 500, exit: 78, message: '%s' },

  // Request input (HTTP 4xx)
  AF_BAD_REQUEST: { status: 400, message: '%s' },
  AF_VALIDATION_FAILED: { status: 400, message: '%s' },
  AF_INVALID_BODY: { status: 400, message: 'invalid body: %s' },
  AF_INVALID_PARAMETER: { status: 400, message: '%s' },
  AF_INVALID_LIMIT: { status: 400, message: '%s' },
  AF_INVALID_OFFSET: { status: 400, message: '%s' },
  AF_INVALID_CURSOR: { status: 400, message: '%s' },
  AF_INVALID_ALERT_ID: { status: 400, message: "Invalid alert ID format: '%s' is not a UUID." },
  AF_UNKNOWN_PARAMETER: { status: 400, message: 'unknown query parameter %s (known: %s)' },
  AF_INVALID_SILENCE_ID: { status: 400, message: '%s' },
  AF_INVALID_MATCHER: { status: 400, message: '%s' },
  AF_SILENCE_ENDS_TOO_EARLY: { status: 400, message: 'ends_at must be after starts_at and in the future' },
  AF_SILENCE_TOO_LONG: { status: 400, message: 'a silence lasts at most 366 days' },
  AF_INVALID_DECISION_ID: { status: 400, message: '%s' },
  AF_INVALID_EXCEPTION: { status: 400, message: '%s' },
  AF_SCENARIO_OPTION_INVALID: { status: 400, message: '%s' },
  AF_UNKNOWN_TEMPLATE: { status: 400, message: "unknown event template '%s'; known: %s" },
  AF_UNAUTHORIZED: { status: 401, message: 'a valid bearer token is required' },
  AF_FORBIDDEN: { status: 403, message: "this token does not have the '%s' scope" },
  AF_CSRF_REJECTED: { status: 403, message: '%s' },
  AF_ROUTE_NOT_FOUND: { status: 404, message: 'no route %s %s' },
  AF_ALERT_NOT_FOUND: { status: 404, message: 'Alert not found: %s' },
  AF_RULE_NOT_FOUND: { status: 404, message: "no rule with id '%s'" },
  AF_SILENCE_NOT_FOUND: { status: 404, message: 'Silence not found: %s' },
  AF_DECISION_NOT_FOUND: { status: 404, message: 'Response decision not found: %s' },
  AF_DECISION_NOT_UNDOABLE: { status: 409, message: 'the decision is %s: there is nothing to undo' },
  AF_EXCEPTION_NOT_FOUND: { status: 404, message: 'Exception not found: %s' },
  AF_UNKNOWN_SCENARIO: { status: 404, message: "unknown scenario '%s'; known: %s" },
  AF_BODY_TOO_LARGE: { status: 413, message: '%s' },
  AF_EVENT_TOO_LARGE: { status: 413, message: 'event larger than %s bytes' },
  AF_BATCH_TOO_LARGE: { status: 413, message: 'at most %s %s per request, got %s' },
  AF_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the request body must be application/json' },
  AF_ALERT_REJECTED_BY_DATABASE: { status: 422, message: 'database rejected the alert: %s' },

  // Messages that are dead-lettered (the code is the DLQ reason code)
  AF_EVENT_INVALID_JSON: { status: 400, message: 'the event body is not JSON: %s' },
  AF_EVENT_INVALID_UTF8: { status: 400, message: 'the event body is not UTF-8' },
  AF_EVENT_SCHEMA: { status: 400, message: 'the event does not match the audit-event schema: %s' },
  AF_EVENT_NOT_OBJECT: { status: 400, message: 'the event body is JSON but not an object: %s' },
  AF_DELIVERY_LIMIT: { status: 500, message: 'delivered %s times without being acknowledged' },
  AF_HANDLER_FAILED: { status: 500, message: 'failed %s times: %s' },
  AF_ALERT_OVERSIZED: { status: 413, message: '%s' },
  AF_ALERT_INVALID_UTF8: { status: 400, message: '%s' },
  AF_ALERT_INVALID_JSON: { status: 400, message: '%s' },
  AF_ALERT_NOT_OBJECT: { status: 400, message: '%s' },
  AF_ALERT_SCHEMA: { status: 400, message: '%s' },
  AF_ALERT_UNSTORABLE: { status: 400, message: '%s' },

  // audit-ingest: dead-letter reasons of the raw sources, and back-pressure
  AF_INGEST_SYSLOG_UNPARSEABLE: { status: 400, message: 'the syslog line cannot be parsed: %s' },
  AF_INGEST_INVALID_UTF8: { status: 400, message: 'the record is not UTF-8' },
  AF_INGEST_INVALID_JSON: { status: 400, message: 'the record is not JSON: %s' },
  AF_INGEST_NOT_AN_AUDIT_EVENT: { status: 400, message: 'the record is not a Kubernetes audit event: %s' },
  AF_INGEST_NOT_A_JOURNAL_ENTRY: { status: 400, message: 'the record is not a journald entry: %s' },
  AF_INGEST_CONTRACT: { status: 400, message: 'the normalised event does not match the audit-event contract: %s' },
  AF_INGEST_OVERSIZED: { status: 413, message: 'the record is larger than %s bytes' },
  AF_INGEST_OVERLOADED: { status: 429, message: '%s events await a broker confirm (limit %s); retry later' },

  // Dependencies (HTTP 5xx; the same request is expected to succeed later)
  AF_INTERNAL: { status: 500, message: 'internal error' },
  AF_PUBLISH_FAILED: { status: 503, message: '%s' },
  AF_BROKER_DOWN: { status: 503, message: 'not connected to RabbitMQ' },
  AF_BROKER_UNAVAILABLE: { status: 503, message: '%s' },
  AF_DELIVERY_FAILED: { status: 500, message: '%s' },
  AF_TOPOLOGY_PENDING: { status: 503, message: 'queues not declared yet%s' },
  AF_REDIS_UNAVAILABLE: { status: 503, message: '%s' },
  AF_REDIS_FULL: { status: 503, message: '%s' },
  AF_DATABASE_UNAVAILABLE: { status: 503, message: 'database unavailable: %s' },
  AF_TOO_MANY_STREAMS: { status: 503, message: 'too many open streams; retry later' },
  AF_BACKEND_UNAVAILABLE: { status: 503, message: '%s' },
  AF_BACKEND_TIMEOUT: { status: 503, message: 'the notification service did not answer within %s ms' },
  AF_BACKEND_BAD_RESPONSE: { status: 502, message: '%s' },
  AF_RESPONSE_LAPI_FAILED: { status: 502, message: 'the CrowdSec Local API: %s' },
  AF_BACKEND_AUTH_REJECTED: { status: 502, message: 'the notification service rejected the dashboard token' },
  AF_BACKEND_REJECTED: { status: 400, message: '%s' },
  AF_ACTIONS_DISABLED: { status: 503, message: 'status changes are disabled: NOTIFICATION_API_TOKEN is not configured' },
  AF_BACKEND_FEATURE_MISSING: { status: 501, message: 'the notification service does not offer %s (%s answered 404); upgrade notification-service to a version with %s' },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The registered HTTP status of a code; undefined for codes outside the registry. */
export function statusOf(code: string): number | undefined {
  return isErrorCode(code) ? ERROR_CODES[code].status : undefined;
}

/** Fills a code's template with `args` in order (fastify's createError uses util.format the same way). */
export function formatErrorMessage(code: ErrorCode, args: readonly unknown[]): string {
  let index = 0;
  return ERROR_CODES[code].message.replace(/%s/g, () => String(args[index++] ?? ''));
}

/**
 * Maps fastify's own client errors (FST_ERR_CTP_*: bad media type, body too
 * large, broken JSON) onto the registry, so a client sees one code per fact
 * whichever layer refused the request.
 */
export function codeForFastifyError(code: string | undefined, status: number): ErrorCode {
  if (code !== undefined && isErrorCode(code)) return code;
  if (status === 415) return 'AF_UNSUPPORTED_MEDIA_TYPE';
  if (status === 413) return 'AF_BODY_TOO_LARGE';
  if (status === 404) return 'AF_ROUTE_NOT_FOUND';
  return 'AF_BAD_REQUEST';
}
