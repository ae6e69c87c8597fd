import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';

const gzipAsync = promisify(gzip);

/** Below this size gzip saves nothing worth the CPU on a Raspberry Pi. */
const MIN_BYTES = 1024;
const COMPRESSIBLE = /^(text\/html|application\/json|application\/problem\+json)/;

/**
 * Gzips HTML pages and JSON answers for clients that accept it. A list page
 * of 50 alerts is tens of kilobytes of repetitive markup; gzip shrinks it
 * about tenfold. Streams (SSE) and pre-compressed assets are left alone.
 */
export function registerCompression(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    if (reply.hasHeader('content-encoding')) return payload;
    if (!COMPRESSIBLE.test(String(reply.getHeader('content-type') ?? ''))) return payload;
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    reply.header('vary', 'accept-encoding');
    if (size < MIN_BYTES || !/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) return payload;
    reply.header('content-encoding', 'gzip');
    reply.removeHeader('content-length');
    return gzipAsync(payload);
  });
}
