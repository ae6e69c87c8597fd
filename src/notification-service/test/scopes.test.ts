import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { toAlertRecord } from '../src/store/alert-record.ts';
import { makeAlert, postgresDatabase, type TestDatabase } from './helpers.ts';
import { type Harness, startHarness } from './service-harness.ts';

const TOKENS = {
  reader: 'reader-token-6b1f0c',
  acker: 'acker-token-91d2ae',
  admin: 'admin-token-3c55e0',
  all: 'all-token-0f7a21',
  plain: 'plain-token-55aa01',
};
const FILE = `# scoped tokens
${TOKENS.reader} scopes=read name=grafana
${TOKENS.acker} scopes=ack name=pager
${TOKENS.admin} scopes=admin name=ops
${TOKENS.all} scopes=read,ack,admin name=event-audit-dashboard
${TOKENS.plain}
`;

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Each scope on each kind of route: reads, status changes, admin-only (and open operations). */
for (const readRequiresToken of [false, true]) {
  describe(`token scopes (API_READ_REQUIRES_TOKEN=${readRequiresToken}, real PostgreSQL)`, () => {
    let db: TestDatabase;
    let harness: Harness;
    let dir: string;
    let id: string;

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'af-scopes-'));
      await writeFile(join(dir, 'tokens'), FILE);
      db = await postgresDatabase();
      harness = await startHarness(db, {
        env: { API_TOKENS: '', API_TOKENS_FILE: join(dir, 'tokens'), API_READ_REQUIRES_TOKEN: String(readRequiresToken) },
      });
      const record = toAlertRecord(makeAlert());
      id = record.alert_id;
      const seed = await db.openStore();
      await seed.upsertAlerts([record]);
      await seed.close();
    });
    after(async () => {
      await harness.stop();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    });

    const read = (headers: Record<string, string> = {}) => harness.handle.app.inject({ url: `/alerts/${id}`, headers });
    const ack = (headers: Record<string, string> = {}) =>
      harness.handle.app.inject({ method: 'PATCH', url: `/alerts/${id}`, headers, payload: { status: 'acknowledged' } });

    test('reads: open without a token unless required; a read token passes; others are 403 when required', async () => {
      assert.equal((await read()).statusCode, readRequiresToken ? 401 : 200);
      for (const path of ['/alerts', '/alerts/stats']) {
        assert.equal((await harness.handle.app.inject({ url: path })).statusCode, readRequiresToken ? 401 : 200, path);
        assert.equal((await harness.handle.app.inject({ url: path, headers: bearer(TOKENS.reader) })).statusCode, 200, path);
      }
      for (const token of [TOKENS.reader, TOKENS.all, TOKENS.plain]) assert.equal((await read(bearer(token))).statusCode, 200);
      for (const token of [TOKENS.acker, TOKENS.admin]) {
        const response = await read(bearer(token));
        assert.equal(response.statusCode, readRequiresToken ? 403 : 200);
        if (readRequiresToken) {
          assert.equal(response.json().code, 'AF_FORBIDDEN');
          assert.match(String(response.headers['www-authenticate']), /error="insufficient_scope", scope="read"/);
        }
      }
      if (readRequiresToken) {
        const stream = await harness.handle.app.inject({ url: '/alerts/stream' });
        assert.equal(stream.statusCode, 401);
        assert.equal(stream.json().code, 'AF_UNAUTHORIZED');
      }
    });

    test('status changes need ack: 401 without a valid token, 403 with read or admin only', async () => {
      for (const headers of [{}, bearer('wrong-token')]) {
        const response = await ack(headers);
        assert.equal(response.statusCode, 401);
        assert.equal(response.json().code, 'AF_UNAUTHORIZED');
      }
      for (const token of [TOKENS.reader, TOKENS.admin]) {
        const response = await ack(bearer(token));
        assert.equal(response.statusCode, 403);
        assert.equal(response.json().code, 'AF_FORBIDDEN');
      }
      for (const token of [TOKENS.acker, TOKENS.all, TOKENS.plain]) assert.equal((await ack(bearer(token))).statusCode, 200);
    });

    test('the actor defaults to the token name (audit trail)', async () => {
      const response = await harness.handle.app.inject({
        method: 'PATCH',
        url: `/alerts/${id}`,
        headers: bearer(TOKENS.acker),
        payload: { status: 'resolved', note: 'by pager' },
      });
      assert.equal(response.json().status_changed_by, 'pager');
    });

    test('operations stay open to every caller (probes must not need a token)', async () => {
      for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
        assert.equal((await harness.handle.app.inject({ url })).statusCode, 200, url);
      }
    });

    test('the OpenAPI document states the requirement of each operation', async () => {
      const doc = (await harness.handle.app.inject({ url: '/openapi.json' })).json();
      const expected = readRequiresToken ? [{ bearer: ['read'] }] : [{}, { bearer: ['read'] }];
      assert.deepEqual(doc.paths['/alerts'].get.security, expected);
      assert.deepEqual(doc.paths['/alerts/{id}'].patch.security, [{ bearer: ['ack'] }]);
    });
  });
}
