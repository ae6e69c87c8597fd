import type { FastifyRequest } from 'fastify';
import { UnsupportedMediaTypeError } from '../errors.ts';

/**
 * The one check of a JSON request body, in three parts: the content type on
 * request (before a byte is read), the size by the route's `bodyLimit` (413),
 * the shape by the route's body schema (400 AF_INVALID_BODY naming the field).
 * `jsonBodyRoute` bundles the first two for a route's options.
 */
export const JSON_MEDIA_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Default size of a JSON request body: a status change or a silence is far smaller. */
export const DEFAULT_JSON_BODY_BYTES = 16 * 1024;

export function assertJsonContentType(request: FastifyRequest): void {
  const type = request.headers['content-type'];
  if (type === undefined || !JSON_MEDIA_TYPE.test(type)) throw new UnsupportedMediaTypeError();
}

/** Route options of a route that takes a JSON body: spread them into the route's options. */
export function jsonBodyRoute(maxBytes: number = DEFAULT_JSON_BODY_BYTES): {
  bodyLimit: number;
  preParsing: (request: FastifyRequest) => Promise<void>;
} {
  // preParsing runs after every onRequest hook (authentication first), before the body is read.
  return { bodyLimit: maxBytes, preParsing: async (request) => assertJsonContentType(request) };
}
