import type { FastifyError, FastifyRequest, FastifyServerOptions } from 'fastify';
import { AfInvalidParameterError, AfInvalidBodyError, AfUnknownParameterError } from '../errors.ts';
import { type Problem, problem } from './problem.ts';

/**
 * How route schemas validate. Fastify's defaults would hide mistakes:
 * `removeAdditional` drops unknown query parameters silently (a typo in a
 * filter would show every row), and `coerceTypes` reads "0x10" or "1e2" as a
 * number. Here unknown parameters fail validation and numbers are read by
 * normaliseQuery, decimal digits only.
 */
export const ROUTE_AJV_OPTIONS: NonNullable<FastifyServerOptions['ajv']> = {
  customOptions: {
    coerceTypes: false,
    removeAdditional: false,
    useDefaults: true,
    allErrors: false,
    // Annotations only: x-problem names the error code of a parameter (see problemFor).
    keywords: ['x-problem'],
  },
};

type PropertySchema = Record<string, unknown>;

/** A parameter given twice, a NUL character: the one rule for every query, before the schema is applied. */
export class InvalidParameterError extends AfInvalidParameterError {
  constructor(name: string, message: string) {
    super(`${name} ${message}`, { details: [{ path: `/${name}`, message }] });
  }
}

/**
 * preValidation for routes with a querystring schema. Query values are text,
 * so this reads them the way the API documents, then the schema judges:
 * values are trimmed and an empty one counts as absent (as the original
 * did with `?limit=`); a declared integer or number is read from decimal
 * digits (anything else stays text and fails the schema's type); a name
 * given twice is refused unless the schema takes a list. Unknown names are
 * left for the schema to refuse by name.
 */
export async function normaliseQuery(request: FastifyRequest): Promise<void> {
  const properties = querySchemaProperties(request);
  if (properties === undefined) return;
  const query = request.query as Record<string, unknown>;
  for (const [name, raw] of Object.entries(query)) {
    const schema = properties[name];
    if (schema === undefined) continue;
    if (Array.isArray(raw)) {
      if (!acceptsArray(schema)) throw new InvalidParameterError(name, 'must be given once');
      query[name] = raw.map((item) => checkText(name, String(item).trim())).filter((item) => item !== '');
      continue;
    }
    const text = checkText(name, String(raw).trim());
    if (text === '') delete query[name];
    else query[name] = readScalar(schema, text);
  }
}

function checkText(name: string, text: string): string {
  if (text.includes('\u0000')) throw new InvalidParameterError(name, 'must not contain NUL characters');
  return text;
}

function readScalar(schema: PropertySchema, text: string): unknown {
  if (schema['type'] === 'integer' && /^[+-]?\d{1,15}$/.test(text)) return Number(text);
  if (schema['type'] === 'number' && /^[+-]?\d{1,15}(\.\d{1,15})?$/.test(text)) return Number(text);
  if (schema['type'] === 'boolean' && (text === 'true' || text === 'false')) return text === 'true';
  return text;
}

function acceptsArray(schema: PropertySchema): boolean {
  if (schema['type'] === 'array') return true;
  const members = (schema['anyOf'] ?? schema['oneOf']) as PropertySchema[] | undefined;
  return members?.some(acceptsArray) ?? false;
}

function querySchemaProperties(request: FastifyRequest): Record<string, PropertySchema> | undefined {
  const schema = request.routeOptions.schema?.querystring as PropertySchema | undefined;
  return schema?.['properties'] as Record<string, PropertySchema> | undefined;
}

type Context = 'body' | 'querystring' | 'params' | 'headers';
const DEFAULT_CODES: Record<Context, string> = {
  body: AfInvalidBodyError.code,
  querystring: AfInvalidParameterError.code,
  params: AfInvalidParameterError.code,
  headers: AfInvalidParameterError.code,
};

interface AjvError {
  keyword: string;
  instancePath: string;
  message?: string;
  params: Record<string, unknown>;
}

/**
 * A fastify validation error as the platform's problem+json: the stable code
 * the parameter's schema names (x-problem), else AF_INVALID_PARAMETER for
 * query and path, AF_INVALID_BODY for bodies; `errors[].path` names the field.
 * Unknown query parameters are AF_UNKNOWN_PARAMETER and every one is named.
 */
export function validationProblem(error: FastifyError, request: FastifyRequest): Problem {
  const context = (error.validationContext ?? 'body') as Context;
  const schema = request.routeOptions.schema?.[context] as PropertySchema | undefined;
  const properties = (schema?.['properties'] ?? {}) as Record<string, PropertySchema>;
  const first = (error.validation?.[0] ?? { keyword: 'type', instancePath: '', params: {} }) as AjvError;

  if (first.keyword === 'additionalProperties' && first.instancePath === '') {
    const given = Object.keys((context === 'querystring' ? request.query : context === 'body' ? request.body : request.params) ?? {});
    const unknown = given.filter((name) => !Object.hasOwn(properties, name));
    const names = unknown.length > 0 ? unknown : [String(first.params['additionalProperty'])];
    const known = Object.keys(properties).join(', ');
    if (context === 'querystring') {
      return problem(400, AfUnknownParameterError.code, `unknown query parameter${names.length > 1 ? 's' : ''} ${names.join(', ')} (known: ${known})`, {
        errors: names.map((name) => ({ path: `/${name}`, message: 'is not a known parameter' })),
      });
    }
    return problem(400, DEFAULT_CODES[context], `invalid ${context}: /${names[0]} is not a known field (${known})`, {
      errors: names.map((name) => ({ path: `/${name}`, message: 'is not a known field' })),
    });
  }

  const field =
    first.keyword === 'required' ? String(first.params['missingProperty']) : (first.instancePath.split('/')[1] ?? '');
  const path = field === '' ? '/' : `/${field}`;
  const annotation = properties[field]?.['x-problem'] as { code: string; messages?: Record<string, string> } | undefined;
  const message = first.keyword === 'required' ? 'is required' : (first.message ?? first.keyword);
  const detail =
    annotation?.messages?.[first.keyword] ??
    (context === 'body' ? `invalid body: ${first.instancePath || '/'} ${message}` : `${field || context} ${message}`);
  return problem(400, annotation?.code ?? DEFAULT_CODES[context], detail, {
    errors: [{ path: context === 'body' ? first.instancePath || path : path, message }],
  });
}
