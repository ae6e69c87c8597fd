import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '@auditflow/common';
import pg from 'pg';
import { PgliteClient } from '../src/db/pglite-client.ts';
import { PostgresClient } from '../src/db/postgres-client.ts';
import type { SqlClient } from '../src/db/sql-client.ts';
import { SqlAlertStore } from '../src/store/sql-alert-store.ts';
import { DATABASE_URL, silentLogger } from '../../common/test/support.ts';

export { DATABASE_URL, RABBITMQ_URL, deleteQueues, silentLogger, uniqueName, waitFor } from '../../common/test/support.ts';

/** A PostgreSQL URL whose sessions use `schema` (created by the caller) as search_path. */
export function schemaUrl(schema: string): string {
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export interface StoreOptions {
  applicationName?: string;
  /** Connect through this URL instead (e.g. a proxy); PostgreSQL only. */
  url?: string;
}

export interface TestDatabase {
  kind: 'postgres' | 'pglite';
  /** Opens a migrated store (each call a new client, like a new replica). */
  openStore(options?: StoreOptions): Promise<SqlAlertStore>;
  /** Raw client for assertions, outside any store. */
  admin: SqlClient;
  url?: string;
  schema?: string;
  drop(): Promise<void>;
}

export async function postgresDatabase(): Promise<TestDatabase> {
  const schema = `nt_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const direct = new pg.Client({ connectionString: DATABASE_URL });
  await direct.connect();
  await direct.query(`CREATE SCHEMA ${schema}`);
  await direct.end();
  const url = schemaUrl(schema);
  const clients: SqlClient[] = [];
  const admin = new PostgresClient({ url, poolMax: 2, applicationName: `${schema}-admin`, logger: silentLogger });
  return {
    kind: 'postgres',
    url,
    schema,
    admin,
    openStore: async (options = {}) => {
      const client = new PostgresClient({
        url: options.url ?? url,
        poolMax: 5,
        applicationName: options.applicationName ?? `${schema}-store`,
        logger: silentLogger,
        connectTimeoutMs: 2000,
      });
      clients.push(client);
      const store = await SqlAlertStore.open(client, silentLogger);
      await store.migrate();
      return store;
    },
    drop: async () => {
      await admin.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
      await admin.close();
    },
  };
}

export async function pgliteDatabase(): Promise<TestDatabase> {
  const dir = await mkdtemp(join(tmpdir(), 'af-pglite-'));
  const client = await PgliteClient.open({ dataDir: dir });
  return {
    kind: 'pglite',
    admin: client,
    openStore: async () => {
      // PGlite is one embedded session: every "replica" shares it.
      const store = await SqlAlertStore.open(nonClosing(client), silentLogger);
      await store.migrate();
      return store;
    },
    drop: async () => {
      await client.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Lets several stores share the one PGlite session without the first close() ending it for all. */
function nonClosing(client: SqlClient): SqlClient {
  return {
    kind: client.kind,
    query: (text, params, options) => client.query(text, params, options),
    exec: (script) => client.exec(script),
    transaction: (work) => client.transaction(work),
    listen: (channel, onMessage) => client.listen(channel, onMessage),
    close: async () => undefined,
  };
}

let sequence = 0;

/** A valid alert in the analysis service's shape; `overrides` replace top-level fields. */
export function makeAlert(overrides: Partial<Record<keyof Alert | string, unknown>> = {}): Alert {
  sequence++;
  const base = {
    alert_id: randomUUID(),
    correlation_id: randomUUID(),
    timestamp: new Date(Date.UTC(2025, 6, 2, 20, 0, 0) + sequence * 1000).toISOString(),
    alert_name: 'Multiple Failed Login Attempts',
    alert_type: 'SECURITY',
    severity: 'CRITICAL',
    description: "3 or more failed login attempts for user 'attacker_bob' on 'prod-web-01' within 60 seconds.",
    source_service_name: 'audit-event-generator',
    analysis_rule: {
      rule_id: 'ANLY-SEC-001',
      rule_name: 'Failed Login Burst Detection',
      rule_description: 'Detects 3 failed logins within 60 seconds.',
    },
    triggered_by: { actor_type: 'USER', actor_id: 'attacker_bob', client_ip: '192.168.1.142' },
    impacted_resource: { resource_type: 'SERVER', resource_id: 'prod-web-01', server_hostname: 'prod-web-01' },
    action_observed: 'LOGIN_FAILURE',
    raw_event_data: { event_id: randomUUID(), event_type: 'user_login' },
    metadata: { tags: ['brute-force'], environment: 'test' },
  };
  return { ...base, ...overrides } as Alert;
}
