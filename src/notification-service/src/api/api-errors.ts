import { ANY_UUID, AuditFlowError, formatErrorMessage } from '@auditflow/common';

/** A client error with a stable code; the shared error handler turns it into problem+json. */
export class BadRequestError extends AuditFlowError {
  constructor(code: string, message: string, details?: unknown) {
    super(code, message, { statusCode: 400, details });
  }
}

export class InvalidAlertIdError extends BadRequestError {
  constructor(id: string) {
    super('AF_INVALID_ALERT_ID', formatErrorMessage('AF_INVALID_ALERT_ID', [id.slice(0, 100)]));
  }
}

export { AlertNotFoundError } from '@auditflow/common';

export function assertAlertId(id: string): string {
  if (!ANY_UUID.test(id)) throw new InvalidAlertIdError(id);
  return id.toLowerCase();
}
