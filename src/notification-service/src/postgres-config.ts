import type { EnvReader } from '@auditflow/common';

/** PostgreSQL for the alerts: DATABASE_URL, or the original split PG_* variables; DATA_DIR for PGlite. */
export interface PostgresConfig {
  url: string | undefined;
  poolMax: number;
  dataDir: string;
}

export function readPostgresConfig(reader: EnvReader): PostgresConfig {
  const poolMax = reader.int('PG_POOL_MAX', 10, { min: 1, max: 100 });
  const dataDir = reader.string('DATA_DIR', './data');
  const url = reader.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  if (url) return { url: url.toString(), poolMax, dataDir };
  const host = reader.raw('PG_HOST');
  if (host === undefined) return { url: undefined, poolMax, dataDir };
  const port = reader.port('PG_PORT', 5432);
  const db = encodeURIComponent(reader.string('PG_DB', 'auditflow'));
  const user = encodeURIComponent(reader.string('PG_USER', 'auditflow'));
  const password = reader.raw('PG_PASSWORD');
  const auth = password === undefined ? user : `${user}:${encodeURIComponent(password)}`;
  return { url: `postgres://${auth}@${host}:${port}/${db}`, poolMax, dataDir };
}
