/**
 * The narrow SQL surface the alert store needs. node-postgres and PGlite both
 * implement it, so one store, one set of statements and one set of migrations
 * serve the cluster (PostgreSQL) and the all-in-one mode (embedded PGlite).
 *
 * Statements only ever return text, integers and booleans (timestamps are
 * formatted in SQL), so the two drivers' different type parsers never matter.
 */
export interface SqlResult<R> {
  rows: R[];
}

export interface QueryOptions {
  /** A stable statement name: PostgreSQL keeps the plan per connection (ignored by PGlite). */
  name?: string;
}

export interface SqlExecutor {
  /** One statement with $n parameters. */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[], options?: QueryOptions): Promise<SqlResult<R>>;
  /** A script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface SqlClient extends SqlExecutor {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Calls `onMessage` with the payload of every NOTIFY on `channel`, from any
   * session. The PostgreSQL adapter re-listens by itself after a lost connection.
   * Resolves to an unsubscribe function.
   */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
