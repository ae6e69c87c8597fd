import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AfMigrationFailedError } from '@auditflow/common/platform';
import { classifyDbError } from './db-errors.ts';
import type { SqlClient, SqlExecutor } from './sql-client.ts';

/** The SQL files ship beside src/ and dist/ alike, so the same relative path works for both. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends AfMigrationFailedError {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? {} : { cause });
  }
}

const FILE_PATTERN = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new MigrationError(`migration file ${file} is not named NNN_name.sql`);
    const sql = await readFile(join(dir, file), 'utf8');
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) throw new MigrationError(`two migrations have version ${version}`);
    migrations.push({ version, name: match[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

// Scoped to the schema, so replicas of one deployment serialise while separate schemas
// (test runs, tenants) never wait for each other.
const LOCK = `SELECT pg_advisory_xact_lock(hashtext('auditflow.notification.migrations:' || current_schema()))`;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
)`;

interface AppliedRow {
  version: number;
  checksum: string;
}

async function applied(tx: SqlExecutor): Promise<Map<number, string>> {
  const { rows } = await tx.query<AppliedRow>('SELECT version, checksum FROM schema_migrations');
  return new Map(rows.map((row) => [row.version, row.checksum]));
}

/**
 * Applies pending migrations in version order, each in its own transaction
 * under a transaction-scoped advisory lock, so replicas starting together
 * apply each migration exactly once and a failed one leaves nothing behind.
 * An applied migration whose file changed since is refused (its checksum).
 * Resolves to the versions applied by this call.
 */
export async function runMigrations(client: SqlClient, migrations?: readonly Migration[]): Promise<number[]> {
  const all = migrations ?? (await loadMigrations());
  await client.transaction(async (tx) => {
    await tx.query(LOCK);
    await tx.query(CREATE_TABLE);
  });
  const done: number[] = [];
  for (const migration of all) {
    const ran = await client.transaction(async (tx) => {
      await tx.query(LOCK);
      const existing = (await applied(tx)).get(migration.version);
      if (existing !== undefined) {
        if (existing !== migration.checksum) {
          throw new MigrationError(
            `migration ${migration.version}_${migration.name} was changed after it was applied (checksum mismatch)`,
          );
        }
        return false;
      }
      try {
        await tx.exec(migration.sql);
      } catch (error) {
        // A lost connection is not the migration's fault: let the caller retry it.
        if (classifyDbError(error) === 'transient') throw error;
        throw new MigrationError(`migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`, error);
      }
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        migration.checksum,
      ]);
      return true;
    });
    if (ran) done.push(migration.version);
  }
  return done;
}
