import {
  AfActionsDisabledError,
  AfBackendAuthRejectedError,
  AfBackendBadResponseError,
  AfBackendFeatureMissingError,
  AfBackendRejectedError,
  AfBackendTimeoutError,
  AfBackendUnavailableError,
  AfCsrfRejectedError,
} from '@auditflow/common/platform';

/**
 * The dashboard's errors, each a registry class (docs/errors.md) with the arguments the dashboard has:
 * - AF_BACKEND_UNAVAILABLE: the notification API could not be reached or answered 5xx.
 * - AF_BACKEND_TIMEOUT: it did not answer within REQUEST_TIMEOUT_MS.
 * - AF_BACKEND_BAD_RESPONSE: it answered with something that is not the documented contract.
 * - AF_BACKEND_AUTH_REJECTED: it refused the dashboard's token (a deployment problem).
 * - AF_BACKEND_REJECTED: it refused a request with a 4xx the dashboard passes on.
 * - AF_ACTIONS_DISABLED: no NOTIFICATION_API_TOKEN is configured.
 * - AF_CSRF_REJECTED: a state-changing request did not come from the dashboard's own pages.
 * - AF_BACKEND_FEATURE_MISSING: the notification service is too old for silences or deliveries (501).
 */
export class BackendUnavailableError extends AfBackendUnavailableError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
  }
}

export class BackendTimeoutError extends AfBackendTimeoutError {
  constructor(timeoutMs: number) {
    super(timeoutMs);
  }
}

export class BackendBadResponseError extends AfBackendBadResponseError {
  constructor(message: string) {
    super(message);
  }
}

export class BackendAuthRejectedError extends AfBackendAuthRejectedError {
}

/** A 4xx answer of the notification API, passed on with its status and detail. */
export class BackendRejectedError extends AfBackendRejectedError {
  constructor(statusCode: number, message: string) {
    super(message, { statusCode });
  }
}

export class ActionsDisabledError extends AfActionsDisabledError {
}

export class CsrfRejectedError extends AfCsrfRejectedError {
  constructor(message: string) {
    super(message);
  }
}

/**
 * The notification service answered 404 for a route the dashboard needs
 * (silences, deliveries): it is older than that feature.
 */
export class BackendFeatureMissingError extends AfBackendFeatureMissingError {
  constructor(feature: string, route: string) {
    super(feature, route, feature);
  }
}
