import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@auditflow/common';
import { PgliteClient } from './db/pglite-client.ts';
import { PostgresClient } from './db/postgres-client.ts';
import type { PostgresConfig } from './postgres-config.ts';
import type { SqlClient } from './db/sql-client.ts';
import { SqlAlertStore } from './store/sql-alert-store.ts';

/** The PostgreSQL client of a standalone service: DATABASE_URL / PG_* are required there. */
export function createPostgresSqlClient(postgres: PostgresConfig, logger: Logger, applicationName: string): SqlClient {
  if (postgres.url === undefined) throw new Error('no PostgreSQL URL configured');
  return new PostgresClient({ url: postgres.url, poolMax: postgres.poolMax, applicationName, logger: logger.child({ component: 'postgres' }) });
}

/** Embedded PGlite in `<dataDir>/notification` for the all-in-one mode. */
export async function createPgliteSqlClient(dataDir: string): Promise<SqlClient> {
  const dir = join(dataDir, 'notification');
  await mkdir(dir, { recursive: true });
  return PgliteClient.open({ dataDir: dir });
}

/** An AlertStore over either client; the store takes ownership of the client. */
export function openAlertStore(client: SqlClient, logger: Logger): Promise<SqlAlertStore> {
  return SqlAlertStore.open(client, logger.child({ component: 'alert-store' }));
}
