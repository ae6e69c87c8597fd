import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { acceptsGzip } from './compress.ts';

/** The browser code and styles, beside src/ and dist/ alike, so both layouts find them. */
export const DEFAULT_ASSET_DIR = fileURLToPath(new URL('../../assets/', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  /** Path under the asset root with forward slashes, e.g. "js/list.js". */
  path: string;
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

export interface AssetBundle {
  /** Content hash of every asset: part of each URL, so the URLs can be cached forever. */
  version: string;
  files: ReadonlyMap<string, Asset>;
  /** URL of an asset, e.g. url("css/app.css") → "/assets/3f2a…/css/app.css". */
  url(path: string): string;
}

/**
 * Loads and compresses the assets once at start-up. One version hash covers
 * them all because ES modules import each other by relative URL: a per-file
 * hash would need every import rewritten, a shared prefix keeps them valid.
 */
export async function loadAssets(dir: string = DEFAULT_ASSET_DIR): Promise<AssetBundle> {
  const files = new Map<string, Asset>();
  const all = createHash('sha256');
  for (const file of (await listFiles(dir)).sort()) {
    const type = TYPES[extname(file)];
    if (type === undefined || file.endsWith('.d.ts')) continue;
    const path = relative(dir, file).split(sep).join('/');
    const body = await readFile(file);
    const digest = createHash('sha256').update(body).digest('base64url');
    all.update(path).update('\0').update(body);
    files.set(path, { path, type, body, gzip: gzipSync(body, { level: 9 }), etag: `"${digest.slice(0, 22)}"` });
  }
  const version = all.digest('hex').slice(0, 12);
  return { version, files, url: (path) => `/assets/${version}/${path}` };
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) return listFiles(full);
      return Promise.resolve(entry.isFile() ? [full] : []);
    }),
  );
  return nested.flat();
}

/** Serves /assets/{version}/{path}: immutable, ETag-validated, gzip when the client accepts it. */
export function registerAssetRoutes(app: FastifyInstance, bundle: AssetBundle): void {
  app.get<{ Params: { version: string; '*': string } }>('/assets/:version/*', async (request, reply) => {
    const asset = bundle.files.get(request.params['*']);
    // An old version is refused rather than answered with new content under an immutable URL.
    if (asset === undefined || request.params.version !== bundle.version) {
      return reply.callNotFound();
    }
    reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('etag', asset.etag)
      .header('vary', 'accept-encoding')
      .type(asset.type);
    if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
    if (acceptsGzip(request.headers['accept-encoding'])) {
      return reply.header('content-encoding', 'gzip').send(asset.gzip);
    }
    return reply.send(asset.body);
  });
}
