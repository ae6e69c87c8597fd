import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { silentLogger } from '../../common/test/support.ts';
import { buildDashboardServer, type DashboardServer, loadDashboardConfig } from '../src/index.ts';
import { type FakeNotification, startFakeNotification } from './support/fake-notification.ts';
import { AUTH_ENV, signIn } from './support/login.ts';

/** The budget for the page's JavaScript and CSS together, gzipped. */
const BUDGET_BYTES = 60 * 1024;

describe('static assets', () => {
  let backend: FakeNotification;
  let server: DashboardServer;

  before(async () => {
    backend = await startFakeNotification();
    backend.add();
    server = await signIn(
      await buildDashboardServer({
        config: loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: backend.url, ...AUTH_ENV }),
        logger: silentLogger,
      }),
    );
  });
  after(async () => {
    await server.app.close();
    await backend.close();
  });

  /** Every script and stylesheet a page loads, following ES module imports. */
  async function pageAssets(path: string): Promise<Set<string>> {
    const page = await server.app.inject({ method: 'GET', url: path });
    const found = new Set<string>();
    const queue = [...page.body.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    while (queue.length > 0) {
      const url = queue.shift()!;
      if (found.has(url)) continue;
      found.add(url);
      if (!url.endsWith('.js')) continue;
      const js = await server.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'identity' } });
      for (const match of js.body.matchAll(/from '(\.\/[^']+)'/g)) queue.push(new URL(match[1]!, `http://x${url}`).pathname);
    }
    return found;
  }

  test(`the JS and CSS of each page stay within ${BUDGET_BYTES / 1024} kB gzipped`, async () => {
    const id = String(backend.rows[0]!['alert_id']);
    for (const path of ['/', `/alert/${id}`]) {
      const assets = await pageAssets(path);
      assert.ok([...assets].some((a) => a.endsWith('.css')), `${path} has a stylesheet`);
      assert.ok([...assets].some((a) => a.endsWith('.js')), `${path} has a script`);
      let total = 0;
      for (const url of assets) {
        const response = await server.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip' } });
        assert.equal(response.statusCode, 200, url);
        assert.equal(response.headers['content-encoding'], 'gzip', url);
        total += response.rawPayload.length;
      }
      assert.ok(total <= BUDGET_BYTES, `${path}: ${total} bytes gzipped exceeds ${BUDGET_BYTES}`);
    }
    // Every served asset together, gzipped independently of the server, is within budget too.
    const all = [...server.assets.files.values()].reduce((sum, asset) => sum + gzipSync(asset.body).length, 0);
    assert.ok(all <= BUDGET_BYTES, `all assets: ${all} bytes gzipped`);
  });

  test('asset URLs are versioned and cached for good, with ETag revalidation', async () => {
    const url = server.assets.url('css/app.css');
    assert.match(url, /^\/assets\/[0-9a-f]{12}\/css\/app\.css$/);
    const response = await server.app.inject({ method: 'GET', url });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(String(response.headers['content-type']), /^text\/css/);
    const etag = String(response.headers['etag']);
    const again = await server.app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    const plain = await server.app.inject({ method: 'GET', url: server.assets.url('js/list.js'), headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.match(String(plain.headers['content-type']), /^text\/javascript/);
  });

  test('unknown assets, old versions and type declarations are not served', async () => {
    for (const url of ['/assets/000000000000/css/app.css', server.assets.url('js/nope.js'), server.assets.url('js/render.d.ts'), server.assets.url('../src/index.ts')]) {
      const response = await server.app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 404, url);
    }
  });
});

describe('response compression', () => {
  test('pages and JSON are gzipped for clients that accept it, and only for them', async () => {
    const { gunzipSync } = await import('node:zlib');
    const backend = await startFakeNotification();
    for (let i = 0; i < 10; i++) backend.add();
    const now = new Date();
    const server = await signIn(
      await buildDashboardServer({
      config: loadDashboardConfig({ APP_PORT: '0', NOTIFICATION_SERVICE_URL: backend.url, ...AUTH_ENV }),
      logger: silentLogger,
      // A fixed clock, so the two renderings being compared are identical.
      now: () => now,
    }),
    );
    try {
      for (const url of ['/', '/api/alerts']) {
        const gz = await server.app.inject({ method: 'GET', url, headers: { 'accept-encoding': 'gzip, deflate, br' } });
        assert.equal(gz.headers['content-encoding'], 'gzip', url);
        assert.equal(gz.headers['vary'], 'accept-encoding');
        const plain = await server.app.inject({ method: 'GET', url });
        assert.equal(plain.headers['content-encoding'], undefined, url);
        assert.equal(gunzipSync(gz.rawPayload).toString(), plain.body, url);
        assert.ok(gz.rawPayload.length < plain.rawPayload.length / 3, url);
        for (const refused of ['gzip;q=0', 'gzip; q=0.000, deflate', '*;q=0', 'br, *;q=0.5, gzip;q=0', 'identity', 'gzipper']) {
          const response = await server.app.inject({ method: 'GET', url, headers: { 'accept-encoding': refused } });
          assert.equal(response.headers['content-encoding'], undefined, `${url} ${refused}`);
        }
        for (const accepted of ['gzip;q=0.5', 'br;q=1, *;q=0.1', 'x-gzip', 'GZIP;Q=1']) {
          const response = await server.app.inject({ method: 'GET', url, headers: { 'accept-encoding': accepted } });
          assert.equal(response.headers['content-encoding'], 'gzip', `${url} ${accepted}`);
        }
      }
      const asset = [...server.assets.files.keys()][0]!;
      const refusedAsset = await server.app.inject({ method: 'GET', url: server.assets.url(asset), headers: { 'accept-encoding': 'gzip;q=0' } });
      assert.equal(refusedAsset.headers['content-encoding'], undefined);
    } finally {
      await server.app.close();
      await backend.close();
    }
  });
});
