import type { Static, TSchema } from '@sinclair/typebox';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { Ajv2020 as Ajv } from 'ajv/dist/2020.js';
import addFormatsImport from 'ajv-formats';
import { ValidationError } from '../errors.ts';
import { type Alert, alertSchema } from './alert.ts';
import { type AuditEvent, auditEventSchema } from './audit-event.ts';
import type { FieldError } from './field-errors.ts';

export type { FieldError } from './field-errors.ts';

// ajv-formats is CommonJS with a default export; under NodeNext its callable sits on `.default`.
const addFormats = ((addFormatsImport as unknown as { default?: unknown }).default ??
  addFormatsImport) as unknown as (ajv: Ajv) => Ajv;

const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
addFormats(ajv);

const validateEventFn = ajv.compile(auditEventSchema) as ValidateFunction<AuditEvent>;
const validateAlertFn = ajv.compile(alertSchema) as ValidateFunction<Alert>;

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

/** A compiled wire contract: a type guard whose `errors` name every bad field of the last value it refused. */
export interface ContractValidator<T> {
  (value: unknown): value is T;
  readonly errors: FieldError[];
}

/**
 * A validator for a wire contract (a TypeBox schema), for values checked
 * outside a fastify route schema: a form body, a stored row.
 */
export function contractValidator<T extends TSchema>(schema: T): ContractValidator<Static<T>> {
  // Without its $id, so a schema can be compiled here and also added to a fastify server.
  const { $id: _id, ...anonymous } = schema as Record<string, unknown>;
  const validate = ajv.compile(anonymous);
  let errors: FieldError[] = [];
  const check = (value: unknown): value is Static<T> => {
    const ok = validate(value) as boolean;
    errors = ok ? [] : describeErrors(validate.errors);
    return ok;
  };
  return Object.defineProperty(check, 'errors', { get: () => errors }) as ContractValidator<Static<T>>;
}
