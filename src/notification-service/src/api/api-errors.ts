import { ANY_UUID, AuditFlowError } from '@auditflow/common';

/** A client error with a stable code; the shared error handler turns it into problem+json. */
export class BadRequestError extends AuditFlowError {
  constructor(code: string, message: string, details?: unknown) {
    super(code, message, { statusCode: 400, details });
  }
}

export class InvalidAlertIdError extends BadRequestError {
  constructor(id: string) {
    super('AF_INVALID_ALERT_ID', `Invalid alert ID format: '${id.slice(0, 100)}' is not a UUID.`);
  }
}

export class AlertNotFoundError extends AuditFlowError {
  constructor(id: string) {
    super('AF_ALERT_NOT_FOUND', `Alert not found: ${id}`, { statusCode: 404 });
  }
}

export function assertAlertId(id: string): string {
  if (!ANY_UUID.test(id)) throw new InvalidAlertIdError(id);
  return id.toLowerCase();
}
