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
    if (size < MIN_BYTES || !acceptsGzip(request.headers['accept-encoding'])) return payload;
    reply.header('content-encoding', 'gzip');
    reply.removeHeader('content-length');
    return gzipAsync(payload);
  });
}

/**
 * Whether Accept-Encoding (RFC 9110 section 12.5.3) allows gzip: listed (or
 * as x-gzip) with a q-value above 0, or covered by `*` when gzip itself is not
 * listed. `gzip;q=0` means "never gzip", so a substring test is not enough.
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  let gzip: number | undefined;
  let any: number | undefined;
  for (const part of text.split(',')) {
    const [coding = '', ...params] = part.split(';').map((item) => item.trim().toLowerCase());
    const qParam = params.find((param) => /^q\s*=/.test(param));
    const q = qParam === undefined ? 1 : qValue(qParam.slice(qParam.indexOf('=') + 1).trim());
    if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip ?? 0, q);
    else if (coding === '*') any = q;
  }
  return (gzip ?? any ?? 0) > 0;
}

/** A malformed q-value counts as 0: an unreadable preference is not a yes. */
function qValue(text: string): number {
  return /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(text) ? Number(text) : 0;
}
