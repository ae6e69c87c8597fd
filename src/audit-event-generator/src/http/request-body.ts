import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AfUnsupportedMediaTypeError } from '@auditflow/common';

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Every route takes JSON only: without fastify's built-in text/plain parser a
 * text body is answered with 415 instead of reaching a handler as a string.
 */
export function acceptJsonOnly(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
}

/** A 415 for a request that names a content type other than JSON but sent no body (fastify only checks bodies). */
export function assertJsonContentType(request: FastifyRequest): void {
  const type = request.headers['content-type'];
  if (type === undefined) return;
  const essence = type.split(';')[0]!.trim().toLowerCase();
  if (essence === 'application/json' || essence.endsWith('+json')) return;
  throw new AfUnsupportedMediaTypeError();
}
