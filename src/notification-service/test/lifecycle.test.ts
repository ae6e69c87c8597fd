import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { loadMigrations, MigrationError, runMigrations } from '../src/db/migrations.ts';
import { PostgresClient } from '../src/db/postgres-client.ts';
import { toAlertRecord } from '../src/store/alert-record.ts';
import { makeAlert, postgresDatabase, silentLogger } from './helpers.ts';
import { startHarness } from './service-harness.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

function runMain(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--conditions=source', MAIN, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('migrations and lifecycle', () => {
  test('replicas migrating at the same moment apply each migration exactly once', async () => {
    const db = await postgresDatabase();
    const clients = Array.from(
      { length: 4 },
      (_, i) => new PostgresClient({ url: db.url!, poolMax: 2, applicationName: `${db.schema}-m${i}`, logger: silentLogger }),
    );
    try {
      const versions = (await loadMigrations()).map((m) => m.version);
      const results = await Promise.all(clients.map((client) => runMigrations(client)));
      assert.deepEqual(results.flat().sort((a, b) => a - b), versions);
      const { rows } = await db.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      assert.equal(rows[0]!.n, versions.length);
    } finally {
      for (const client of clients) await client.close();
      await db.drop();
    }
  });

  test('an applied migration whose file changed is refused', async () => {
    const db = await postgresDatabase();
    try {
      const migrations = await loadMigrations();
      await runMigrations(db.admin, migrations);
      const edited = migrations.map((m) => (m.version === 2 ? { ...m, checksum: 'edited' } : m));
      await assert.rejects(runMigrations(db.admin, edited), MigrationError);
    } finally {
      await db.drop();
    }
  });

  test('`main.ts migrate` applies the migrations and exits 0; without a database it exits 78 naming PG_HOST', async () => {
    const db = await postgresDatabase();
    try {
      const done = await runMain(['migrate'], { DATABASE_URL: db.url!, LOG_LEVEL: 'info' });
      assert.equal(done.code, 0, done.output);
      const { rows } = await db.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
      assert.equal(rows[0]!.n, (await loadMigrations()).length);
      const again = await runMain(['migrate'], { DATABASE_URL: db.url! });
      assert.equal(again.code, 0);
      const missing = await runMain(['migrate'], {});
      assert.equal(missing.code, 78);
      assert.match(missing.output, /PG_HOST/);
      const service = await runMain([], {});
      assert.equal(service.code, 78);
      assert.match(service.output, /RABBITMQ_HOST/);
    } finally {
      await db.drop();
    }
  });

  test('retention purges alerts older than RETENTION_DAYS and counts them', async () => {
    const db = await postgresDatabase();
    const now = new Date('2031-06-30T00:00:00Z');
    const harness = await startHarness(db, { env: { RETENTION_DAYS: '7' }, now: () => now });
    try {
      const seed = await db.openStore();
      const old = Array.from({ length: 5 }, (_, i) =>
        toAlertRecord(makeAlert({ timestamp: new Date(Date.UTC(2031, 5, 1, 0, i)).toISOString() })),
      );
      const fresh = toAlertRecord(makeAlert({ timestamp: '2031-06-29T00:00:00Z' }));
      await seed.upsertAlerts([...old, fresh]);
      await seed.close();
      assert.equal(await harness.handle.retention.runOnce(), 5);
      assert.equal(await harness.handle.retention.runOnce(), 0);
      const { rows } = await db.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts');
      assert.equal(rows[0]!.n, 1);
      const metrics = (await harness.handle.app.inject({ url: '/metrics' })).body;
      assert.match(metrics, /notification_alerts_purged_total\{[^}]*\} 5/);
    } finally {
      await harness.stop();
      await db.drop();
    }
  });

  test('stop() fails readiness first and then closes everything', async () => {
    const db = await postgresDatabase();
    const harness = await startHarness(db);
    const stopping = harness.handle.stop();
    assert.equal(harness.handle.health.draining, true);
    await stopping;
    await harness.broker.close();
    await db.drop();
  });
});
