import { type Static, Type } from '@sinclair/typebox';

/**
 * The one per-field error shape of every API (problem+json `errors[]`):
 * `path` is a JSON Pointer into the request (`/matchers/0/name`, `/limit`),
 * `message` says what is wrong with that field.
 */
export const FieldErrorSchema = Type.Object({ path: Type.String(), message: Type.String() });
export type FieldError = Static<typeof FieldErrorSchema>;

/** `matchers[0].name` (how a person writes a field) as the JSON Pointer `/matchers/0/name`. */
export function fieldPointer(field: string): string {
  return `/${field.replace(/\[(\d+)\]/g, '.$1').split('.').filter(Boolean).join('/')}`;
}

/** Collects field errors the way a form reports them: `field problem`, joined for the detail text. */
export class FieldErrors {
  readonly #errors: FieldError[] = [];
  readonly #texts: string[] = [];

  add(field: string, problem: string): void {
    this.#errors.push({ path: fieldPointer(field), message: problem });
    this.#texts.push(`${field} ${problem}`);
  }

  get size(): number {
    return this.#errors.length;
  }

  get errors(): FieldError[] {
    return [...this.#errors];
  }

  /** The detail line of the problem: every field named, in the order found. */
  get summary(): string {
    return this.#texts.join('; ');
  }
}
