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

/**
 * fastify's createError: an error class for one registered code whose
 * constructor arguments fill the code's message template; status from the registry.
 */
export function createError<Args extends unknown[] = [string]>(code: ErrorCode, Base: AuditFlowErrorClass = AuditFlowError) {
  return class extends Base {
    constructor(...args: Args) {
      super(code, formatErrorMessage(code, args), { statusCode: ERROR_CODES[code].status });
    }
  };
}

export const AlertNotFoundError = createError<[id: string]>('AF_ALERT_NOT_FOUND');
export const RuleNotFoundError = createError<[id: string]>('AF_RULE_NOT_FOUND');
export const UnsupportedMediaTypeError = createError<[]>('AF_UNSUPPORTED_MEDIA_TYPE');

export function isPermanent(error: unknown): error is PermanentError {
  return error instanceof PermanentError;
}

export function isTransient(error: unknown): error is TransientError {
  return error instanceof TransientError;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
