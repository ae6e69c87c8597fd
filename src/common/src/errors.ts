import { ERROR_CODES, type ErrorCode, formatErrorMessage, statusOf } from './error-codes.ts';

/**
 * Typed errors with stable codes, in the spirit of fastify's createError:
 * callers and tests branch on `code`, never on message text. The codes, their
 * statuses and templates live in error-codes.ts.
 */
export interface AuditFlowErrorOptions {
  cause?: unknown;
  statusCode?: number;
  details?: unknown;
}

export class AuditFlowError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly details: unknown;

  constructor(code: string, message: string, options: AuditFlowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.statusCode = options.statusCode ?? statusOf(code) ?? 500;
    this.details = options.details;
    // Subclassing built-ins loses the prototype chain under some transpilers.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** Bad configuration: the process must not start. */
export class ConfigError extends AuditFlowError {
  readonly variables: string[];
  constructor(problems: { variable: string; problem: string }[]) {
    super(
      'AF_CONFIG_INVALID',
      `invalid configuration: ${problems.map((p) => `${p.variable}: ${p.problem}`).join('; ')}`,
      { details: problems },
    );
    this.variables = problems.map((p) => p.variable);
  }
}

/** sysexits EX_CONFIG: a setting must change before the process can start. */
export const EXIT_CONFIG = 78;
/** sysexits EX_UNAVAILABLE: a dependency (port, broker, database, data directory) is not there now. */
export const EXIT_UNAVAILABLE = 69;

/**
 * A start-up failure a person can act on: printed as one line naming the
 * problem and the variable to change, never as a stack, and mapped to an exit
 * code (78 configuration, 69 unavailable) by whoever owns the process.
 */
export class StartupError extends AuditFlowError {
  readonly variable: string;
  readonly exitCode: typeof EXIT_CONFIG | typeof EXIT_UNAVAILABLE;
  constructor(
    code: string,
    message: string,
    options: { variable: string; exitCode: typeof EXIT_CONFIG | typeof EXIT_UNAVAILABLE; cause?: unknown },
  ) {
    super(code, message, { statusCode: 500, cause: options.cause });
    this.variable = options.variable;
    this.exitCode = options.exitCode;
  }
}

/**
 * Input that can never succeed, however often it is retried: a message that
 * fails it is dead-lettered at once; an HTTP request that fails it gets a 4xx.
 */
export class PermanentError extends AuditFlowError {
  constructor(code: string, message: string, options: AuditFlowErrorOptions = {}) {
    super(code, message, { statusCode: statusOf(code) ?? 400, ...options });
  }
}

export class ValidationError extends PermanentError {
  constructor(message: string, details?: unknown) {
    super('AF_VALIDATION_FAILED', message, { statusCode: 400, details });
  }
}

/** A dependency is unavailable; the same work is expected to succeed later. */
export class TransientError extends AuditFlowError {
  constructor(code: string, message: string, options: AuditFlowErrorOptions = {}) {
    super(code, message, { statusCode: statusOf(code) ?? 503, ...options });
  }
}

export class UnauthorizedError extends AuditFlowError {
  constructor(message: string = ERROR_CODES.AF_UNAUTHORIZED.message) {
    super('AF_UNAUTHORIZED', message);
  }
}

type AuditFlowErrorClass = new (code: string, message: string, options?: AuditFlowErrorOptions) => AuditFlowError;
/** A value a message template's `%s` takes. */
type Arg = string | number;

/** A registered error class: `new AfXxxError(...templateArgs, options?)`, and its code as `AfXxxError.code`. */
export interface RegisteredError<Args extends unknown[]> {
  new (...args: [...Args] | [...Args, AuditFlowErrorOptions]): AuditFlowError;
  readonly code: ErrorCode;
}

/**
 * fastify's createError: an error class for one registered code whose
 * constructor arguments fill the code's message template, with an optional
 * last argument for the cause, the details (per-field errors) or a status
 * that differs from the registered one; status from the registry otherwise.
 */
export function createError<Args extends unknown[] = [string]>(code: ErrorCode, Base: AuditFlowErrorClass = AuditFlowError) {
  const placeholders = ERROR_CODES[code].message.split('%s').length - 1;
  const registered = class extends Base {
    static readonly code: ErrorCode = code;
    constructor(...args: [...Args] | [...Args, AuditFlowErrorOptions]) {
      const options = args.length > placeholders ? (args[placeholders] as AuditFlowErrorOptions) : {};
      super(code, formatErrorMessage(code, args.slice(0, placeholders)), { statusCode: ERROR_CODES[code].status, ...options });
    }
  };
  // AF_PORT_IN_USE -> AfPortInUseError, the name a stack trace and a log line show.
  const name = `Af${code.slice(3).toLowerCase().replace(/(^|_)([a-z0-9])/g, (_m, _s, c: string) => c.toUpperCase())}Error`;
  Object.defineProperty(registered, 'name', { value: name });
  return registered;
}

export function isPermanent(error: unknown): error is PermanentError {
  return error instanceof PermanentError;
}

export function isTransient(error: unknown): error is TransientError {
  return error instanceof TransientError;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/*
 * The registry as classes, one per code (fastify's lib/errors.js): call sites
 * throw these and never spell a code or its message; data that carries a code
 * (a dead-letter reason, an x-problem annotation) reads it from `.code`.
 * Transient ones are retried by the delivery policy, permanent ones dead-lettered.
 */
export const AfConfigInvalidError = createError<[Arg]>('AF_CONFIG_INVALID');
export const AfPortInUseError = createError<[Arg, Arg]>('AF_PORT_IN_USE');
export const AfBrokerUnreachableError = createError<[Arg, Arg]>('AF_BROKER_UNREACHABLE');
export const AfBrokerRefusedError = createError<[Arg, Arg]>('AF_BROKER_REFUSED');
export const AfDatabaseUnreachableError = createError<[Arg, Arg]>('AF_DATABASE_UNREACHABLE');
export const AfDatabaseRefusedError = createError<[Arg, Arg, Arg]>('AF_DATABASE_REFUSED');
export const AfDataDirLockedError = createError<[Arg, Arg]>('AF_DATA_DIR_LOCKED');
export const AfRulesInvalidError = createError<[Arg, Arg]>('AF_RULES_INVALID');
export const AfMigrationFailedError = createError<[Arg]>('AF_MIGRATION_FAILED');
export const AfCliUsageError = createError<[Arg]>('AF_CLI_USAGE');
export const AfOutputsInvalidError = createError<[Arg, Arg]>('AF_OUTPUTS_INVALID');
export const AfExceptionsInvalidError = createError<[Arg, Arg]>('AF_EXCEPTIONS_INVALID');
export const AfHostsInvalidError = createError<[Arg]>('AF_HOSTS_INVALID');
export const AfBadRequestError = createError<[Arg]>('AF_BAD_REQUEST');
export const AfValidationFailedError = createError<[Arg]>('AF_VALIDATION_FAILED', PermanentError);
export const AfInvalidBodyError = createError<[Arg]>('AF_INVALID_BODY');
export const AfInvalidParameterError = createError<[Arg]>('AF_INVALID_PARAMETER');
export const AfInvalidLimitError = createError<[Arg]>('AF_INVALID_LIMIT');
export const AfInvalidOffsetError = createError<[Arg]>('AF_INVALID_OFFSET');
export const AfInvalidCursorError = createError<[Arg]>('AF_INVALID_CURSOR');
export const AfInvalidAlertIdError = createError<[Arg]>('AF_INVALID_ALERT_ID');
export const AfUnknownParameterError = createError<[Arg, Arg]>('AF_UNKNOWN_PARAMETER');
export const AfInvalidSilenceIdError = createError<[Arg]>('AF_INVALID_SILENCE_ID');
export const AfInvalidMatcherError = createError<[Arg]>('AF_INVALID_MATCHER');
export const AfSilenceEndsTooEarlyError = createError<[]>('AF_SILENCE_ENDS_TOO_EARLY');
export const AfSilenceTooLongError = createError<[]>('AF_SILENCE_TOO_LONG');
export const AfInvalidDecisionIdError = createError<[Arg]>('AF_INVALID_DECISION_ID');
export const AfInvalidExceptionError = createError<[Arg]>('AF_INVALID_EXCEPTION');
export const AfScenarioOptionInvalidError = createError<[Arg]>('AF_SCENARIO_OPTION_INVALID');
export const AfUnknownTemplateError = createError<[Arg, Arg]>('AF_UNKNOWN_TEMPLATE');
export const AfUnauthorizedError = createError<[]>('AF_UNAUTHORIZED');
export const AfForbiddenError = createError<[Arg]>('AF_FORBIDDEN');
export const AfCsrfRejectedError = createError<[Arg]>('AF_CSRF_REJECTED');
export const AfRouteNotFoundError = createError<[Arg, Arg]>('AF_ROUTE_NOT_FOUND');
export const AfAlertNotFoundError = createError<[Arg]>('AF_ALERT_NOT_FOUND');
export const AfRuleNotFoundError = createError<[Arg]>('AF_RULE_NOT_FOUND');
export const AfSilenceNotFoundError = createError<[Arg]>('AF_SILENCE_NOT_FOUND');
export const AfDecisionNotFoundError = createError<[Arg]>('AF_DECISION_NOT_FOUND');
export const AfDecisionNotUndoableError = createError<[Arg]>('AF_DECISION_NOT_UNDOABLE');
export const AfExceptionNotFoundError = createError<[Arg]>('AF_EXCEPTION_NOT_FOUND');
export const AfUnknownScenarioError = createError<[Arg, Arg]>('AF_UNKNOWN_SCENARIO');
export const AfBodyTooLargeError = createError<[Arg]>('AF_BODY_TOO_LARGE');
export const AfEventTooLargeError = createError<[Arg]>('AF_EVENT_TOO_LARGE');
export const AfBatchTooLargeError = createError<[Arg, Arg, Arg]>('AF_BATCH_TOO_LARGE');
export const AfUnsupportedMediaTypeError = createError<[]>('AF_UNSUPPORTED_MEDIA_TYPE');
export const AfAlertRejectedByDatabaseError = createError<[Arg]>('AF_ALERT_REJECTED_BY_DATABASE', PermanentError);
export const AfEventInvalidJsonError = createError<[Arg]>('AF_EVENT_INVALID_JSON');
export const AfEventInvalidUtf8Error = createError<[]>('AF_EVENT_INVALID_UTF8');
export const AfEventSchemaError = createError<[Arg]>('AF_EVENT_SCHEMA');
export const AfEventNotObjectError = createError<[Arg]>('AF_EVENT_NOT_OBJECT');
export const AfDeliveryLimitError = createError<[Arg]>('AF_DELIVERY_LIMIT');
export const AfHandlerFailedError = createError<[Arg, Arg]>('AF_HANDLER_FAILED');
export const AfAlertOversizedError = createError<[Arg]>('AF_ALERT_OVERSIZED', PermanentError);
export const AfAlertInvalidUtf8Error = createError<[Arg]>('AF_ALERT_INVALID_UTF8', PermanentError);
export const AfAlertInvalidJsonError = createError<[Arg]>('AF_ALERT_INVALID_JSON', PermanentError);
export const AfAlertNotObjectError = createError<[Arg]>('AF_ALERT_NOT_OBJECT', PermanentError);
export const AfAlertSchemaError = createError<[Arg]>('AF_ALERT_SCHEMA', PermanentError);
export const AfAlertUnstorableError = createError<[Arg]>('AF_ALERT_UNSTORABLE', PermanentError);
export const AfIngestSyslogUnparseableError = createError<[Arg]>('AF_INGEST_SYSLOG_UNPARSEABLE');
export const AfIngestInvalidUtf8Error = createError<[]>('AF_INGEST_INVALID_UTF8');
export const AfIngestInvalidJsonError = createError<[Arg]>('AF_INGEST_INVALID_JSON');
export const AfIngestNotAnAuditEventError = createError<[Arg]>('AF_INGEST_NOT_AN_AUDIT_EVENT');
export const AfIngestNotAJournalEntryError = createError<[Arg]>('AF_INGEST_NOT_A_JOURNAL_ENTRY');
export const AfIngestContractError = createError<[Arg]>('AF_INGEST_CONTRACT');
export const AfIngestOversizedError = createError<[Arg]>('AF_INGEST_OVERSIZED');
export const AfIngestOverloadedError = createError<[Arg, Arg]>('AF_INGEST_OVERLOADED', TransientError);
export const AfInternalError = createError<[]>('AF_INTERNAL');
export const AfPublishFailedError = createError<[Arg]>('AF_PUBLISH_FAILED', TransientError);
export const AfBrokerDownError = createError<[]>('AF_BROKER_DOWN', TransientError);
export const AfBrokerUnavailableError = createError<[Arg]>('AF_BROKER_UNAVAILABLE', TransientError);
export const AfDeliveryFailedError = createError<[Arg]>('AF_DELIVERY_FAILED');
export const AfTopologyPendingError = createError<[Arg]>('AF_TOPOLOGY_PENDING', TransientError);
export const AfRedisUnavailableError = createError<[Arg]>('AF_REDIS_UNAVAILABLE', TransientError);
export const AfRedisFullError = createError<[Arg]>('AF_REDIS_FULL', TransientError);
export const AfDatabaseUnavailableError = createError<[Arg]>('AF_DATABASE_UNAVAILABLE', TransientError);
export const AfTooManyStreamsError = createError<[]>('AF_TOO_MANY_STREAMS');
export const AfBackendUnavailableError = createError<[Arg]>('AF_BACKEND_UNAVAILABLE', TransientError);
export const AfBackendTimeoutError = createError<[Arg]>('AF_BACKEND_TIMEOUT', TransientError);
export const AfBackendBadResponseError = createError<[Arg]>('AF_BACKEND_BAD_RESPONSE');
export const AfResponseLapiFailedError = createError<[Arg]>('AF_RESPONSE_LAPI_FAILED', TransientError);
export const AfBackendAuthRejectedError = createError<[]>('AF_BACKEND_AUTH_REJECTED');
export const AfBackendRejectedError = createError<[Arg]>('AF_BACKEND_REJECTED');
export const AfActionsDisabledError = createError<[]>('AF_ACTIONS_DISABLED');
export const AfBackendFeatureMissingError = createError<[Arg, Arg, Arg]>('AF_BACKEND_FEATURE_MISSING');

export const AlertNotFoundError = AfAlertNotFoundError;
export const RuleNotFoundError = AfRuleNotFoundError;
export const UnsupportedMediaTypeError = AfUnsupportedMediaTypeError;
