import { AuditFlowError, TransientError } from '@auditflow/common';

/**
 * Error codes of the dashboard (stable; tests and clients branch on them):
 * - AF_BACKEND_UNAVAILABLE: the notification API could not be reached or answered 5xx.
 * - AF_BACKEND_TIMEOUT: it did not answer within REQUEST_TIMEOUT_MS.
 * - AF_BACKEND_BAD_RESPONSE: it answered with something that is not the documented contract.
 * - AF_BACKEND_AUTH_REJECTED: it refused the dashboard's token (a deployment problem).
 * - AF_BACKEND_REJECTED: it refused a request with a 4xx the dashboard passes on.
 * - AF_ACTIONS_DISABLED: no NOTIFICATION_API_TOKEN is configured.
 * - AF_CSRF_REJECTED: a state-changing request did not come from the dashboard's own pages.
 * - AF_BACKEND_FEATURE_MISSING: the notification service is too old for silences or deliveries (501).
 */
export class BackendUnavailableError extends TransientError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('AF_BACKEND_UNAVAILABLE', message, { statusCode: 503, ...options });
  }
}

export class BackendTimeoutError extends TransientError {
  constructor(timeoutMs: number) {
    super('AF_BACKEND_TIMEOUT', `the notification service did not answer within ${timeoutMs} ms`, {
      statusCode: 503,
    });
  }
}

export class BackendBadResponseError extends AuditFlowError {
  constructor(message: string) {
    super('AF_BACKEND_BAD_RESPONSE', message, { statusCode: 502 });
  }
}

export class BackendAuthRejectedError extends AuditFlowError {
  constructor() {
    super('AF_BACKEND_AUTH_REJECTED', 'the notification service rejected the dashboard token', {
      statusCode: 502,
    });
  }
}

/** A 4xx answer of the notification API, passed on with its status and detail. */
export class BackendRejectedError extends AuditFlowError {
  constructor(statusCode: number, message: string) {
    super('AF_BACKEND_REJECTED', message, { statusCode });
  }
}

export class ActionsDisabledError extends AuditFlowError {
  constructor() {
    super('AF_ACTIONS_DISABLED', 'status changes are disabled: NOTIFICATION_API_TOKEN is not configured', {
      statusCode: 503,
    });
  }
}

export class CsrfRejectedError extends AuditFlowError {
  constructor(message: string) {
    super('AF_CSRF_REJECTED', message, { statusCode: 403 });
  }
}

/**
 * The notification service answered 404 for a route the dashboard needs
 * (silences, deliveries): it is older than that feature.
 */
export class BackendFeatureMissingError extends AuditFlowError {
  constructor(feature: string, route: string) {
    super(
      'AF_BACKEND_FEATURE_MISSING',
      `the notification service does not offer ${feature} (${route} answered 404); upgrade notification-service to a version with ${feature}`,
      { statusCode: 501 },
    );
  }
}
