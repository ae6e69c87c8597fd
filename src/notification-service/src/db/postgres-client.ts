import { backoffDelay, type Logger, sleep } from '@auditflow/common';
import pg from 'pg';
import type { QueryOptions, SqlClient, SqlExecutor, SqlResult } from './sql-client.ts';

export interface PostgresClientOptions {
  /** postgres://user:pass@host:5432/db; `?options=-c search_path=x` selects a schema. */
  url: string;
  poolMax: number;
  /** Shown in pg_stat_activity, so operators (and tests) can find this service's sessions. */
  applicationName: string;
  logger: Logger;
  /** @default 30000 */
  statementTimeoutMs?: number;
  /** @default 5000 */
  connectTimeoutMs?: number;
}

/**
 * node-postgres adapter. The pool drops a broken connection and opens a new
 * one on the next checkout, so a database restart heals by itself; the pool is
 * only ever ended by close() (the original closed it for good on the first
 * error).
 */
export class PostgresClient implements SqlClient {
  readonly kind = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #options: PostgresClientOptions;
  readonly #listener: NotificationListener;

  constructor(options: PostgresClientOptions) {
    this.#options = options;
    this.#pool = new pg.Pool(this.#connectionConfig(options.poolMax));
    // An idle client whose backend died emits here; without a listener the process would crash.
    this.#pool.on('error', (error) => options.logger.warn({ err: error }, 'idle PostgreSQL connection lost'));
    // The pool only listens on idle clients; a backend killed at any other moment (between a
    // query's callback and the release, say) would emit an unhandled 'error' and crash the process.
    // The error still reaches whoever runs the next query on that client, and the pool drops it.
    this.#pool.on('connect', (client) => {
      client.on('error', (error) => options.logger.debug({ err: error }, 'PostgreSQL connection error'));
    });
    this.#listener = new NotificationListener(() => new pg.Client(this.#connectionConfig(1)), options.logger);
  }

  async query<R>(text: string, params: readonly unknown[] = [], options: QueryOptions = {}): Promise<SqlResult<R>> {
    const result = await this.#pool.query({ text, values: params as unknown[], ...(options.name ? { name: options.name } : {}) });
    return { rows: result.rows as R[] };
  }

  async exec(script: string): Promise<void> {
    await this.#pool.query(script);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    // A checked-out client has no pool listener: a backend killed between two statements would
    // otherwise surface as an uncaught 'error' event. The failure reaches the caller via the next query.
    const onError = (error: Error): void => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const tx: SqlExecutor = {
        query: async <R>(text: string, params: readonly unknown[] = [], options: QueryOptions = {}) => {
          const result = await client.query({ text, values: params as unknown[], ...(options.name ? { name: options.name } : {}) });
          return { rows: result.rows as R[] };
        },
        exec: async (script: string) => {
          // Without parameters node-postgres uses the simple protocol, which accepts several statements.
          await client.query(script);
        },
      };
      const value = await work(tx);
      await client.query('COMMIT');
      return value;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection itself is gone: tell the pool to discard it instead of reusing it.
        broken = rollbackError as Error;
      }
      throw error;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    return this.#listener.add(channel, onMessage);
  }

  async close(): Promise<void> {
    await this.#listener.close();
    await this.#pool.end();
  }

  #connectionConfig(max: number): pg.PoolConfig {
    return {
      connectionString: this.#options.url,
      max,
      application_name: this.#options.applicationName,
      connectionTimeoutMillis: this.#options.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      statement_timeout: this.#options.statementTimeoutMs ?? 30_000,
      keepAlive: true,
    };
  }
}

type Handler = (payload: string) => void;

/**
 * One dedicated connection for LISTEN (a pooled one would be handed to other
 * queries). It reconnects with backoff and re-subscribes every channel; NOTIFYs
 * sent while it is down are lost, which SSE clients cover by re-reading the list.
 */
class NotificationListener {
  readonly #makeClient: () => pg.Client;
  readonly #logger: Logger;
  readonly #channels = new Map<string, Set<Handler>>();
  #client: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #closed = false;
  readonly #stop = new AbortController();

  constructor(makeClient: () => pg.Client, logger: Logger) {
    this.#makeClient = makeClient;
    this.#logger = logger;
  }

  async add(channel: string, handler: Handler): Promise<() => Promise<void>> {
    let handlers = this.#channels.get(channel);
    const fresh = handlers === undefined;
    if (!handlers) {
      handlers = new Set();
      this.#channels.set(channel, handlers);
    }
    handlers.add(handler);
    if (!this.#client) await this.#ensureConnected();
    else if (fresh) await this.#client.query(`LISTEN ${quoteIdent(channel)}`);
    return async () => {
      handlers.delete(handler);
      if (handlers.size === 0) {
        this.#channels.delete(channel);
        await this.#client?.query(`UNLISTEN ${quoteIdent(channel)}`).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stop.abort();
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  #ensureConnected(): Promise<void> {
    this.#connecting ??= this.#connectLoop().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connectLoop(): Promise<void> {
    for (let attempt = 0; !this.#closed; attempt++) {
      const client = this.#makeClient();
      client.on('notification', (message) => {
        for (const handler of this.#channels.get(message.channel) ?? []) handler(message.payload ?? '');
      });
      client.on('error', (error) => {
        this.#logger.warn({ err: error }, 'PostgreSQL LISTEN connection lost; reconnecting');
        this.#lost(client);
      });
      client.on('end', () => this.#lost(client));
      try {
        await client.connect();
        for (const channel of this.#channels.keys()) await client.query(`LISTEN ${quoteIdent(channel)}`);
        if (this.#closed) {
          await client.end().catch(() => undefined);
          return;
        }
        this.#client = client;
        if (attempt > 0) this.#logger.info('PostgreSQL LISTEN connection restored');
        return;
      } catch (error) {
        await client.end().catch(() => undefined);
        if (attempt === 0) this.#logger.warn({ err: error }, 'PostgreSQL LISTEN connection failed; retrying');
        await sleep(backoffDelay(attempt, { initialMs: 200, maxMs: 5000 }), this.#stop.signal);
      }
    }
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => undefined);
    if (!this.#closed && this.#channels.size > 0) void this.#ensureConnected();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
