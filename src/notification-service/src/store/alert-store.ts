/**
 * The alert-store port: everything the service needs from its database. One
 * SQL implementation (SqlAlertStore) runs on PostgreSQL and on PGlite.
 *
 * Rows are handed out as JSON text built by the database (the API's row shape,
 * see af_row_json in the migrations): the HTTP layer forwards it untouched.
 */
import type { AlertStatus, StatsBucket } from '@auditflow/common';
import type { AlertRow } from '@auditflow/common/contracts';
import type { ResponseStore } from '../response/response-store.ts';
import type { ExceptionStore } from '../exceptions/exception-store.ts';
import type { SilenceStore } from '../silences/silence-store.ts';
import type { DeliveryPlanner, OutboxStore } from './outbox-store.ts';

export { ALERT_STATUSES, type AlertStatus, type StatsBucket } from '@auditflow/common';

/**
 * What one alert writes: the wire row's columns (AlertSchema in @auditflow/common) minus the
 * lifecycle the store owns (status, received_at, updated_at), with the values the store
 * always fills (metadata, fingerprint) narrowed to non-null.
 */
export type AlertRecord = Omit<
  AlertRow,
  'received_at' | 'status' | 'status_changed_at' | 'status_changed_by' | 'status_note' | 'updated_at' | 'silenced' | 'silenced_by' | 'metadata' | 'fingerprint'
> & { metadata: object; fingerprint: string };

/** inserted: a new row; updated: an existing row moved on (count, last_seen); duplicate: nothing new. */
export type UpsertOutcome = 'inserted' | 'updated' | 'duplicate';

export interface AlertFilters {
  severity?: readonly string[];
  status?: readonly AlertStatus[];
  ruleId?: readonly string[];
  actorId?: string;
  host?: string;
  /** Inclusive lower bound on `timestamp`. */
  since?: Date;
  /** Exclusive upper bound on `timestamp`. */
  until?: Date;
  /** Words, each matched as a prefix in alert_name or description. */
  text?: readonly string[];
}

/** Position after the last row of a page: (timestamp, alert_id) exactly as stored. */
export interface KeysetPosition {
  timestamp: string;
  alertId: string;
}

export interface AlertListQuery extends AlertFilters {
  limit: number;
  offset: number;
  after?: KeysetPosition;
}

export interface AlertPage {
  /** The JSON text of each row, newest first (the HTTP layer writes them out as one array). */
  rows: readonly string[];
  count: number;
  /** Set when the page is full: where the next one starts. */
  next?: KeysetPosition;
}


export interface AlertStatsQuery extends AlertFilters {
  since: Date;
  until: Date;
  bucket: StatsBucket;
  /** Rules listed in by_rule, most frequent first. */
  topRules: number;
}

export interface AlertStats {
  total: number;
  by_severity: Record<string, number>;
  by_status: Record<string, number>;
  by_rule: { rule_id: string | null; rule_name: string | null; count: number }[];
  timeline: { bucket: string; counts: Record<string, number> }[];
}

export interface StatusChange {
  status: AlertStatus;
  actor: string;
  note?: string;
}

export interface StatusChangeResult {
  /** The row JSON after the change. */
  json: string;
  /** False when the alert already had this status and note: nothing was written. */
  changed: boolean;
  previous: AlertStatus;
}

export type AlertChangeKind = 'created' | 'updated';

export interface AlertChange {
  kind: AlertChangeKind;
  alertId: string;
  /** The row JSON at the time it was read. */
  json: string;
}

export type AlertChangeListener = (change: AlertChange) => void;

export interface AlertStore {
  /** The notification outbox in the same database (migration 007). */
  readonly outbox: OutboxStore;
  readonly silences: SilenceStore;
  /** Response decisions of crowdsec outputs (migration 008). */
  readonly response: ResponseStore;
  /** Exceptions saved from the dashboard or the API (migration 009). */
  readonly exceptions: ExceptionStore;
  /**
   * Routes every alert upsertAlerts inserts or grows to its outputs, in the upsert's transaction
   * (the transactional outbox); undefined stops enqueueing.
   */
  setDeliveryPlanner(planner: DeliveryPlanner | undefined): void;
  /** Applies pending migrations; resolves to the versions applied. */
  migrate(): Promise<number[]>;
  /**
   * Inserts or folds alerts in one transaction, results in input order. Throws
   * DatabaseUnavailableError (transient) or InvalidAlertDataError (permanent,
   * the whole batch was rejected: retry items one by one to find the culprit).
   */
  upsertAlerts(records: readonly AlertRecord[]): Promise<UpsertOutcome[]>;
  listAlerts(query: AlertListQuery): Promise<AlertPage>;
  /** Row JSON plus a `history` array, or undefined for an unknown id. */
  getAlert(alertId: string): Promise<string | undefined>;
  /**
   * Changes the status and writes the history row in one transaction; undefined for an unknown id.
   * A change to resolved enqueues a resolution for every output told the alert fired.
   */
  updateStatus(alertId: string, change: StatusChange): Promise<StatusChangeResult | undefined>;
  stats(query: AlertStatsQuery): Promise<AlertStats>;
  /** Deletes up to `batchSize` alerts (and their history) older than `cutoff`; resolves to the number deleted. */
  purgeOlderThan(cutoff: Date, batchSize: number): Promise<number>;
  /**
   * Calls `listener` for every alert created or changed by any replica sharing
   * the database, after the change committed. Resolves to an unsubscribe function.
   */
  subscribe(listener: AlertChangeListener): Promise<() => Promise<void>>;
  /** Throws unless the database answers `SELECT 1` now. */
  check(): Promise<void>;
  close(): Promise<void>;
}
