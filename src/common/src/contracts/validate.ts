import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 as Ajv } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { ValidationError } from '../errors.ts';
import { type Alert, alertSchema } from './alert.ts';
import { type AuditEvent, auditEventSchema } from './audit-event.ts';

// ajv-formats is CommonJS with a default export; under NodeNext its callable sits on `.default`.
const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ??
  addFormatsImport) as unknown as (ajv: Ajv) => Ajv;

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
addFormats(ajv);

const validateEventFn = ajv.compile(auditEventSchema) as ValidateFunction<AuditEvent>;
const validateAlertFn = ajv.compile(alertSchema) as ValidateFunction<Alert>;

export interface FieldError {
  path: string;
  message: string;
}

export function describeErrors(errors: ErrorObject[] | null | undefined): FieldError[] {
  return (errors ?? []).map((error) => ({
    path: error.instancePath === '' ? '/' : error.instancePath,
    message:
      error.keyword === 'required'
        ? `missing required field '${String(error.params['missingProperty'])}'`
        : (error.message ?? error.keyword),
  }));
}

function summary(errors: FieldError[]): string {
  return errors
    .slice(0, 5)
    .map((e) => `${e.path} ${e.message}`)
    .join('; ');
}

export function isAuditEvent(value: unknown): value is AuditEvent {
  return validateEventFn(value);
}

/** Returns the value typed as an event, or throws a ValidationError naming every bad field. */
export function assertAuditEvent(value: unknown): AuditEvent {
  if (validateEventFn(value)) return value;
  const errors = describeErrors(validateEventFn.errors);
  throw new ValidationError(`invalid audit event: ${summary(errors)}`, errors);
}

export function assertAlert(value: unknown): Alert {
  if (validateAlertFn(value)) return value;
  const errors = describeErrors(validateAlertFn.errors);
  throw new ValidationError(`invalid alert: ${summary(errors)}`, errors);
}

/** A timestamp the contract accepts must also be a real instant (ajv checks the shape). */
export function parseInstant(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ValidationError(`'${value}' is not a valid ISO-8601 instant`);
  return ms;
}
