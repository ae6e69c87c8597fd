import type { PGlite } from '@electric-sql/pglite';
import { type DataDirLock, lockDataDir } from './data-dir-lock.ts';
import type { QueryOptions, SqlClient, SqlExecutor, SqlResult } from './sql-client.ts';

/**
 * Embedded PostgreSQL (WASM) for the all-in-one mode: the same SQL and
 * migrations as the cluster, data kept in a directory, no server to run.
 * PGlite is a single session, so statements queue behind each other and a
 * transaction has the database to itself.
 */
export class PgliteClient implements SqlClient {
  readonly kind = 'pglite' as const;
  readonly #db: PGlite;
  readonly #lock: DataDirLock | undefined;

  private constructor(db: PGlite, lock: DataDirLock | undefined) {
    this.#db = db;
    this.#lock = lock;
  }

  /**
   * Opens (or creates) the database in `dataDir`; omit it for a throw-away
   * in-memory one. The directory is locked first, so a second process (a
   * second start, `auditflow migrate`) is refused instead of corrupting it.
   */
  static async open(options: { dataDir?: string } = {}): Promise<PgliteClient> {
    const lock = options.dataDir === undefined ? undefined : lockDataDir(options.dataDir);
    try {
      // Loaded on demand: the WASM build is large, and a service on a real PostgreSQL never needs it.
      const { PGlite } = await import('@electric-sql/pglite');
      const db = await PGlite.create(options.dataDir === undefined ? {} : { dataDir: options.dataDir });
      return new PgliteClient(db, lock);
    } catch (error) {
      lock?.release();
      throw error;
    }
  }

  async query<R>(text: string, params: readonly unknown[] = [], _options: QueryOptions = {}): Promise<SqlResult<R>> {
    const result = await this.#db.query<R>(text, params as unknown[]);
    return { rows: result.rows };
  }

  async exec(script: string): Promise<void> {
    await this.#db.exec(script);
  }

  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#db.transaction((tx) =>
      work({
        query: async <R>(text: string, params: readonly unknown[] = []) => {
          const result = await tx.query<R>(text, params as unknown[]);
          return { rows: result.rows };
        },
        exec: async (script: string) => {
          await tx.exec(script);
        },
      }),
    );
  }

  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    const unlisten = await this.#db.listen(channel, onMessage);
    return async () => {
      if (!this.#db.closed) await unlisten();
    };
  }

  async close(): Promise<void> {
    try {
      if (!this.#db.closed) await this.#db.close();
    } finally {
      this.#lock?.release();
    }
  }
}
