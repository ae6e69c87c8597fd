import type { EnvReader } from '@auditflow/common';
import { defineEnv, envAccessors } from '@auditflow/common/platform';

/** PostgreSQL for the alerts (docs/configuration.md, "PostgreSQL", is generated from this). */
export const POSTGRES_ENV = defineEnv({
  DATABASE_URL: { type: 'url', protocols: ['postgres:', 'postgresql:'], description: '`postgres://user:pass@host:5432/db`; wins over the split form' },
  PG_HOST: { type: 'string', description: 'unset together with `DATABASE_URL` means embedded PGlite in `DATA_DIR` (all-in-one mode only)' },
  PG_PORT: { type: 'port', default: 5432, description: '' },
  PG_DB: { type: 'string', default: 'auditflow', description: '' },
  PG_USER: { type: 'string', default: 'auditflow', description: '' },
  PG_PASSWORD: { type: 'secret', description: 'secret' },
  PG_POOL_MAX: { type: 'int', default: 10, min: 1, max: 100, description: '' },
  DATA_DIR: { type: 'string', default: './data', description: 'where PGlite keeps its files in all-in-one mode' },
});

/** PostgreSQL for the alerts: DATABASE_URL, or the original split PG_* variables; DATA_DIR for PGlite. */
export interface PostgresConfig {
  url: string | undefined;
  poolMax: number;
  dataDir: string;
}

export function readPostgresConfig(reader: EnvReader): PostgresConfig {
  const read = envAccessors(POSTGRES_ENV, reader);
  const poolMax = read.PG_POOL_MAX();
  const dataDir = read.DATA_DIR();
  const url = read.DATABASE_URL();
  if (url) return { url: url.toString(), poolMax, dataDir };
  const host = read.PG_HOST();
  if (host === undefined) return { url: undefined, poolMax, dataDir };
  const port = read.PG_PORT();
  const db = encodeURIComponent(read.PG_DB());
  const user = encodeURIComponent(read.PG_USER());
  const password = read.PG_PASSWORD();
  const auth = password === undefined ? user : `${user}:${encodeURIComponent(password)}`;
  return { url: `postgres://${auth}@${host}:${port}/${db}`, poolMax, dataDir };
}
