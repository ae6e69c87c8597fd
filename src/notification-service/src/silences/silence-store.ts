import { toStoreError } from '../db/db-errors.ts';
import type { SqlClient } from '../db/sql-client.ts';
import type { Matcher } from '../delivery/matchers.ts';

export type SilenceState = 'pending' | 'active' | 'expired';

export interface NewSilence {
  id: string;
  matchers: Matcher[];
  createdBy: string;
  comment: string;
  startsAt: Date;
  endsAt: Date;
}

/** What matching needs of a silence in force. */
export interface ActiveSilence {
  id: string;
  matchers: Matcher[];
}

export interface SilenceStore {
  create(silence: NewSilence): Promise<string>;
  /** Silence JSON texts, newest first; `all` when no state is given. */
  list(state: SilenceState | 'all'): Promise<string[]>;
  get(id: string): Promise<string | undefined>;
  /** Ends the silence now (a no-op for an expired one); undefined for an unknown id. */
  expire(id: string): Promise<string | undefined>;
  /** The silences in force at the database's clock. */
  active(): Promise<ActiveSilence[]>;
}

const STATE = `CASE WHEN s.ends_at <= NOW() THEN 'expired' WHEN s.starts_at > NOW() THEN 'pending' ELSE 'active' END`;
const JSON_OF = `json_build_object('id', s.id, 'matchers', s.matchers, 'created_by', s.created_by, 'comment', s.comment,
  'starts_at', af_iso(s.starts_at), 'ends_at', af_iso(s.ends_at), 'updated_at', af_iso(s.updated_at), 'status', ${STATE})::text`;

const INSERT = `WITH s AS (
  INSERT INTO silences (id, matchers, created_by, comment, starts_at, ends_at)
  VALUES ($1::uuid, $2::jsonb, $3, $4, $5::timestamptz, $6::timestamptz) RETURNING *
) SELECT ${JSON_OF} AS json FROM s`;
const LIST = `SELECT ${JSON_OF} AS json FROM silences s WHERE $1 = 'all' OR ${STATE} = $1 ORDER BY s.starts_at DESC, s.id LIMIT 1000`;
const GET = `SELECT ${JSON_OF} AS json FROM silences s WHERE s.id = $1::uuid`;
const EXPIRE = `UPDATE silences s SET ends_at = NOW(), starts_at = LEAST(s.starts_at, NOW()), updated_at = NOW()
WHERE s.id = $1::uuid AND s.ends_at > NOW()`;
const ACTIVE = `SELECT s.id::text AS id, s.matchers::text AS matchers FROM silences s WHERE s.starts_at <= NOW() AND s.ends_at > NOW()`;

export class SqlSilenceStore implements SilenceStore {
  readonly #client: SqlClient;

  constructor(client: SqlClient) {
    this.#client = client;
  }

  async create(silence: NewSilence): Promise<string> {
    const rows = await this.#rows<{ json: string }>(INSERT, [
      silence.id,
      JSON.stringify(silence.matchers),
      silence.createdBy,
      silence.comment,
      silence.startsAt.toISOString(),
      silence.endsAt.toISOString(),
    ]);
    return rows[0]!.json;
  }

  async list(state: SilenceState | 'all'): Promise<string[]> {
    return (await this.#rows<{ json: string }>(LIST, [state])).map((row) => row.json);
  }

  async get(id: string): Promise<string | undefined> {
    return (await this.#rows<{ json: string }>(GET, [id]))[0]?.json;
  }

  async expire(id: string): Promise<string | undefined> {
    await this.#rows(EXPIRE, [id]);
    return this.get(id);
  }

  async active(): Promise<ActiveSilence[]> {
    const rows = await this.#rows<{ id: string; matchers: string }>(ACTIVE, []);
    return rows.map((row) => ({ id: row.id, matchers: JSON.parse(row.matchers) as Matcher[] }));
  }

  async #rows<R>(text: string, params: readonly unknown[]): Promise<R[]> {
    try {
      return (await this.#client.query<R>(text, params)).rows;
    } catch (error) {
      throw toStoreError(error);
    }
  }
}
