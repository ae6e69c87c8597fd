import type { AlertException, ExceptionEntry } from '@auditflow/common/contracts';
import { toStoreError } from '../db/db-errors.ts';
import type { SqlClient } from '../db/sql-client.ts';

export interface NewStoredException {
  id: string;
  rule_id: string;
  fields: Record<string, string>;
  author: string;
  reason: string;
  expires_at: string | undefined;
}

/** A page of stored alerts of one rule, newest first, for the preview. */
export interface PreviewPage {
  /** The API row JSON of each alert: the labels are read from exactly what the API shows. */
  rows: string[];
  /** Where the next page starts; undefined when this page was the last. */
  next: { timestamp: string; alertId: string } | undefined;
}

export interface ExceptionStore {
  create(exception: NewStoredException): Promise<AlertException>;
  /** Every exception, in the exceptions file's order (rule, creation time, id). */
  list(): Promise<AlertException[]>;
  /** Deletes and returns it; undefined for an unknown id. */
  delete(id: string): Promise<AlertException | undefined>;
  /** Alerts of `ruleId` with `timestamp` >= `since`, newest first, `limit` at a time, from `after` on. */
  previewPage(ruleId: string, since: Date, limit: number, after?: PreviewPage['next']): Promise<PreviewPage>;
}

interface Row {
  json: string;
}

const JSON_OF = `json_build_object('id', e.id, 'rule_id', e.rule_id, 'fields', e.fields, 'author', e.author, 'reason', e.reason,
  'created_at', af_iso(e.created_at), 'expires_at', af_iso(e.expires_at), 'active', e.expires_at IS NULL OR e.expires_at > NOW())::text`;
const INSERT = `WITH e AS (
  INSERT INTO alert_exceptions (id, rule_id, fields, author, reason, expires_at)
  VALUES ($1, $2, $3::jsonb, $4, $5, $6::timestamptz) RETURNING *
) SELECT ${JSON_OF} AS json FROM e`;
const LIST = `SELECT ${JSON_OF} AS json FROM alert_exceptions e ORDER BY e.rule_id, e.created_at, e.id LIMIT 10000`;
const DELETE = `WITH e AS (DELETE FROM alert_exceptions WHERE id = $1 RETURNING *) SELECT ${JSON_OF} AS json FROM e`;
// Served by alerts_rule_keyset_idx (rule_id, "timestamp" DESC, alert_id DESC).
const PAGE_FIRST = `SELECT a.row_json AS json, af_iso(a."timestamp") AS ts, a.alert_id::text AS id FROM alerts a
WHERE a.rule_id = $1 AND a."timestamp" >= $2::timestamptz
ORDER BY a."timestamp" DESC, a.alert_id DESC LIMIT $3`;
const PAGE_AFTER = `SELECT a.row_json AS json, af_iso(a."timestamp") AS ts, a.alert_id::text AS id FROM alerts a
WHERE a.rule_id = $1 AND a."timestamp" >= $2::timestamptz AND (a."timestamp", a.alert_id) < ($4::timestamptz, $5::uuid)
ORDER BY a."timestamp" DESC, a.alert_id DESC LIMIT $3`;

export class SqlExceptionStore implements ExceptionStore {
  readonly #client: SqlClient;

  constructor(client: SqlClient) {
    this.#client = client;
  }

  async create(exception: NewStoredException): Promise<AlertException> {
    const rows = await this.#rows<Row>(INSERT, [
      exception.id,
      exception.rule_id,
      JSON.stringify(exception.fields),
      exception.author,
      exception.reason,
      exception.expires_at ?? null,
    ]);
    return JSON.parse(rows[0]!.json) as AlertException;
  }

  async list(): Promise<AlertException[]> {
    return (await this.#rows<Row>(LIST, [])).map((row) => JSON.parse(row.json) as AlertException);
  }

  async delete(id: string): Promise<AlertException | undefined> {
    const [row] = await this.#rows<Row>(DELETE, [id]);
    return row === undefined ? undefined : (JSON.parse(row.json) as AlertException);
  }

  async previewPage(ruleId: string, since: Date, limit: number, after?: PreviewPage['next']): Promise<PreviewPage> {
    const rows = after
      ? await this.#rows<{ json: string; ts: string; id: string }>(PAGE_AFTER, [ruleId, since.toISOString(), limit, after.timestamp, after.alertId])
      : await this.#rows<{ json: string; ts: string; id: string }>(PAGE_FIRST, [ruleId, since.toISOString(), limit]);
    const last = rows.at(-1);
    return { rows: rows.map((row) => row.json), next: rows.length === limit && last ? { timestamp: last.ts, alertId: last.id } : undefined };
  }

  async #rows<R>(text: string, params: readonly unknown[]): Promise<R[]> {
    try {
      return (await this.#client.query<R>(text, params)).rows;
    } catch (error) {
      throw toStoreError(error);
    }
  }
}

/** A stored exception as an entry of the exceptions file. */
export function toEntry(exception: AlertException): ExceptionEntry {
  return {
    id: exception.id,
    rule_id: exception.rule_id,
    fields: exception.fields,
    author: exception.author,
    reason: exception.reason,
    created_at: exception.created_at,
    ...(exception.expires_at ? { expires_at: exception.expires_at } : {}),
  };
}
