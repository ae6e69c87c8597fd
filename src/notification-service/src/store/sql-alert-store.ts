import { createHash } from 'node:crypto';
import type { Logger } from '@auditflow/common';
import { toStoreError } from '../db/db-errors.ts';
import { runMigrations } from '../db/migrations.ts';
import type { SqlClient, SqlExecutor } from '../db/sql-client.ts';
import { ResponseStore } from '../response/response-store.ts';
import { SqlExceptionStore } from '../exceptions/exception-store.ts';
import { SqlSilenceStore } from '../silences/silence-store.ts';
import {
  CURRENT_SCHEMA,
  FETCH_CHANGED,
  GET_ALERT,
  INSERT_HISTORY,
  LOCK_FOR_STATUS,
  NOTIFY_MANY,
  PURGE_BATCH,
  SET_STATUS,
  UPSERT_ALERTS,
} from './alert-sql.ts';
import type {
  AlertChange,
  AlertChangeKind,
  AlertChangeListener,
  AlertListQuery,
  AlertPage,
  AlertRecord,
  AlertStats,
  AlertStatsQuery,
  AlertStatus,
  AlertStore,
  KeysetPosition,
  StatusChange,
  StatusChangeResult,
  UpsertOutcome,
} from './alert-store.ts';
import { ENQUEUE_FIRING, ENQUEUE_RESOLVED } from './outbox-sql.ts';
import type { DeliveryPlanner } from './outbox-store.ts';
import { SqlOutboxStore } from './sql-outbox-store.ts';
import { filterConditions, SqlParams, whereClause } from './filter-sql.ts';
import { statementName } from './statement-name.ts';
import { buildStats, type StatsRow, statsSql } from './stats-sql.ts';

/** NOTIFY payloads are capped at 8000 bytes; 150 ids of 36 characters stay well below. */
const IDS_PER_NOTIFY = 150;

interface ChangeNotice {
  c?: string[];
  u?: string[];
}

/**
 * The one AlertStore implementation, over any SqlClient. Every write that
 * creates or changes a row also NOTIFYs its id in the same transaction, so the
 * notice is delivered only if the change committed; every replica's listener
 * then reads the row and hands it to its subscribers (SSE clients).
 */
export class SqlAlertStore implements AlertStore {
  readonly #client: SqlClient;
  readonly #logger: Logger;
  #channel: Promise<string> | undefined;
  readonly #listeners = new Set<AlertChangeListener>();
  #unlisten: Promise<() => Promise<void>> | undefined;
  #deliveries: Promise<void> = Promise.resolve();
  #planner: DeliveryPlanner | undefined;
  readonly outbox: SqlOutboxStore;
  readonly silences: SqlSilenceStore;
  readonly response: ResponseStore;
  readonly exceptions: SqlExceptionStore;

  private constructor(client: SqlClient, logger: Logger) {
    this.#client = client;
    this.#logger = logger;
    this.outbox = new SqlOutboxStore(client);
    this.silences = new SqlSilenceStore(client);
    this.response = new ResponseStore(client);
    this.exceptions = new SqlExceptionStore(client);
  }

  setDeliveryPlanner(planner: DeliveryPlanner | undefined): void {
    this.#planner = planner;
  }

  /** Asks the database nothing yet, so a service can start (and report not ready) while it is down. */
  static async open(client: SqlClient, logger: Logger): Promise<SqlAlertStore> {
    return new SqlAlertStore(client, logger);
  }

  migrate(): Promise<number[]> {
    return runMigrations(this.#client);
  }

  async upsertAlerts(records: readonly AlertRecord[]): Promise<UpsertOutcome[]> {
    if (records.length === 0) return [];
    const planner = this.#planner;
    let enqueued = false;
    try {
      const returned = await this.#client.transaction(async (tx) => {
        const { rows } = await tx.query<{ alert_id: string; inserted: boolean }>(
          UPSERT_ALERTS,
          // Rows are locked in id order, so two batches written at once cannot deadlock.
          [JSON.stringify([...records].sort((a, b) => (a.alert_id < b.alert_id ? -1 : a.alert_id > b.alert_id ? 1 : 0)))],
          { name: 'af_upsert_alerts' },
        );
        await this.#notify(
          tx,
          rows.filter((row) => row.inserted).map((row) => row.alert_id),
          rows.filter((row) => !row.inserted).map((row) => row.alert_id),
        );
        if (planner !== undefined && rows.length > 0) enqueued = await this.#enqueue(tx, planner, records, rows);
        return rows;
      });
      if (enqueued) planner?.enqueued();
      const byId = new Map(returned.map((row) => [row.alert_id, row.inserted ? 'inserted' : 'updated'] as const));
      return records.map((record) => byId.get(record.alert_id) ?? 'duplicate');
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async listAlerts(query: AlertListQuery): Promise<AlertPage> {
    const params = new SqlParams();
    const conditions = filterConditions(query, params);
    if (query.after) {
      conditions.push(
        `(a."timestamp", a.alert_id) < (${params.add(query.after.timestamp)}::timestamptz, ${params.add(query.after.alertId)}::uuid)`,
      );
    }
    // Only row_json is read: formatting the keyset columns of every row (af_iso, uuid::text) cost the
    // database a third of the query, while the cursor needs them for the last row alone.
    const text = `SELECT a.row_json AS json FROM alerts a ${whereClause(conditions)}
ORDER BY a."timestamp" DESC, a.alert_id DESC
LIMIT ${params.add(query.limit)} OFFSET ${params.add(query.offset)}`;
    const rows = (await this.#read<{ json: string }>(text, params.values)).map((row) => row.json);
    const last = rows.length === query.limit ? rows[rows.length - 1] : undefined;
    return { rows, count: rows.length, ...(last === undefined ? {} : { next: keysetPositionOf(last) }) };
  }

  async getAlert(alertId: string): Promise<string | undefined> {
    const rows = await this.#read<{ json: string; history: string }>(GET_ALERT, [alertId]);
    const row = rows[0];
    if (!row) return undefined;
    return `${row.json.slice(0, -1)},"history":${row.history}}`;
  }

  async updateStatus(alertId: string, change: StatusChange): Promise<StatusChangeResult | undefined> {
    let resolvedEnqueued = false;
    try {
      const result = await this.#client.transaction(async (tx) => {
        const { rows } = await tx.query<{ status: AlertStatus; status_note: string | null }>(LOCK_FOR_STATUS, [alertId]);
        const current = rows[0];
        if (!current) return undefined;
        const note = change.note ?? null;
        if (current.status === change.status && (change.note === undefined || note === current.status_note)) {
          const unchanged = await tx.query<{ json: string }>('SELECT row_json AS json FROM alerts WHERE alert_id = $1::uuid', [
            alertId,
          ]);
          return { json: unchanged.rows[0]!.json, changed: false, previous: current.status };
        }
        const updated = await tx.query<{ json: string }>(SET_STATUS, [alertId, change.status, change.actor, note]);
        await tx.query(INSERT_HISTORY, [alertId, current.status, change.status, change.actor, note]);
        if (change.status === 'resolved' && current.status !== 'resolved') {
          resolvedEnqueued = (await tx.query(ENQUEUE_RESOLVED, [alertId], { name: 'af_outbox_resolved' })).rows.length > 0;
        }
        await this.#notify(tx, [], [alertId]);
        return { json: updated.rows[0]!.json, changed: true, previous: current.status };
      });
      if (resolvedEnqueued) this.#planner?.enqueued();
      return result;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async stats(query: AlertStatsQuery): Promise<AlertStats> {
    const params = new SqlParams();
    const text = statsSql(query, params);
    const rows = await this.#read<StatsRow>(text, params.values);
    return buildStats(rows, query);
  }

  async purgeOlderThan(cutoff: Date, batchSize: number): Promise<number> {
    const rows = await this.#read<{ deleted: number }>(PURGE_BATCH, [cutoff.toISOString(), batchSize]);
    return rows[0]?.deleted ?? 0;
  }

  async subscribe(listener: AlertChangeListener): Promise<() => Promise<void>> {
    this.#listeners.add(listener);
    try {
      this.#unlisten ??= this.#channelName().then((channel) =>
        this.#client.listen(channel, (payload) => this.#onNotice(payload)),
      );
      await this.#unlisten;
    } catch (error) {
      this.#listeners.delete(listener);
      this.#unlisten = undefined;
      throw toStoreError(error);
    }
    return async () => {
      this.#listeners.delete(listener);
    };
  }

  async check(): Promise<void> {
    await this.#read('SELECT 1');
  }

  async close(): Promise<void> {
    const unlisten = this.#unlisten;
    this.#unlisten = undefined;
    this.#listeners.clear();
    if (unlisten) await (await unlisten.catch(() => async () => undefined))();
    await this.#deliveries;
    await this.#client.close();
  }

  /** The planned notifications of the rows the upsert wrote (the others were redeliveries). */
  async #enqueue(
    tx: SqlExecutor,
    planner: DeliveryPlanner,
    records: readonly AlertRecord[],
    written: readonly { alert_id: string }[],
  ): Promise<boolean> {
    const ids = new Set(written.map((row) => row.alert_id));
    const planned = planner.plan(records.filter((record) => ids.has(record.alert_id)));
    if (planned.length === 0) return false;
    const { rows } = await tx.query(ENQUEUE_FIRING, [JSON.stringify(planned)], { name: 'af_outbox_enqueue' });
    return rows.length > 0;
  }

  /** NOTIFY channels are database-wide: one per schema keeps deployments sharing a database apart. */
  #channelName(executor: SqlExecutor = this.#client): Promise<string> {
    this.#channel ??= executor.query<{ schema: string | null }>(CURRENT_SCHEMA).then(
      ({ rows }) => `af_alerts_${createHash('sha1').update(rows[0]?.schema ?? 'public').digest('hex').slice(0, 16)}`,
    );
    this.#channel.catch(() => {
      this.#channel = undefined;
    });
    return this.#channel;
  }

  async #read<R>(text: string, params: readonly unknown[] = []): Promise<R[]> {
    try {
      const { rows } = await this.#client.query<R>(text, params, { name: statementName(text) });
      return rows;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async #notify(tx: SqlExecutor, created: readonly string[], updated: readonly string[]): Promise<void> {
    const payloads: string[] = [];
    for (const [key, ids] of [
      ['c', created],
      ['u', updated],
    ] as const) {
      for (let i = 0; i < ids.length; i += IDS_PER_NOTIFY) {
        payloads.push(JSON.stringify({ [key]: ids.slice(i, i + IDS_PER_NOTIFY) }));
      }
    }
    if (payloads.length > 0) await tx.query(NOTIFY_MANY, [await this.#channelName(tx), payloads], { name: 'af_notify_many' });
  }

  #onNotice(payload: string): void {
    if (this.#listeners.size === 0) return;
    let notice: ChangeNotice;
    try {
      notice = JSON.parse(payload) as ChangeNotice;
    } catch {
      this.#logger.warn({ payload: payload.slice(0, 200) }, 'ignoring malformed alert change notice');
      return;
    }
    const wanted: { id: string; kind: AlertChangeKind }[] = [
      ...(notice.c ?? []).map((id) => ({ id, kind: 'created' as const })),
      ...(notice.u ?? []).map((id) => ({ id, kind: 'updated' as const })),
    ];
    // One read at a time keeps the subscribers' order the order the notices arrived in.
    this.#deliveries = this.#deliveries.then(() => this.#deliver(wanted));
  }

  async #deliver(wanted: { id: string; kind: AlertChangeKind }[]): Promise<void> {
    if (this.#listeners.size === 0 || wanted.length === 0) return;
    try {
      const { rows } = await this.#client.query<{ alert_id: string; json: string }>(
        FETCH_CHANGED,
        [wanted.map((w) => w.id)],
        { name: 'af_fetch_changed' },
      );
      const json = new Map(rows.map((row) => [row.alert_id, row.json]));
      for (const { id, kind } of wanted) {
        const row = json.get(id);
        // Purged between the change and this read: nothing left to show.
        if (row === undefined) continue;
        const change: AlertChange = { kind, alertId: id, json: row };
        for (const listener of this.#listeners) {
          try {
            listener(change);
          } catch (error) {
            this.#logger.warn({ err: error }, 'alert change listener failed');
          }
        }
      }
    } catch (error) {
      this.#logger.warn({ err: error, count: wanted.length }, 'could not read changed alerts for subscribers');
    }
  }
}

/** How json_build_object lays out the first fields of every row_json (af_row_json, migration 004). */
const ROW_JSON_HEAD = /^\{"alert_id" : "([0-9a-f-]{36})", "correlation_id" : "[^"]*", "timestamp" : "([^"]+)"/;

/**
 * The keyset position of a row, read back from its row_json: the database wrote `timestamp` there
 * with af_iso and `alert_id` as the uuid, the very values a cursor carries, in the same statement
 * (or trigger) that wrote the columns. The head is matched first, which spares parsing a whole
 * row per page; anything laid out otherwise is parsed.
 */
function keysetPositionOf(rowJson: string): KeysetPosition {
  const head = ROW_JSON_HEAD.exec(rowJson);
  if (head !== null) return { timestamp: head[2]!, alertId: head[1]! };
  const row = JSON.parse(rowJson) as { timestamp?: unknown; alert_id?: unknown };
  if (typeof row.timestamp !== 'string' || typeof row.alert_id !== 'string') {
    throw new Error('row_json lacks the keyset fields timestamp and alert_id');
  }
  return { timestamp: row.timestamp, alertId: row.alert_id };
}
