/**
 * The alert-store port: everything the service needs from its database. One
 * SQL implementation (SqlAlertStore) runs on PostgreSQL and on PGlite.
 *
 * Rows are handed out as JSON text built by the database (the API's row shape,
 * see af_row_json in the migrations): the HTTP layer forwards it untouched.
 */
import type { AlertStatus, StatsBucket } from '@auditflow/common';
import type { SilenceStore } from '../silences/silence-store.ts';
import type { DeliveryPlanner, OutboxStore } from './outbox-store.ts';

export { ALERT_STATUSES, type AlertStatus, type StatsBucket } from '@auditflow/common';

/** One alert as it is written: the contract's fields, flattened, with aggregation defaults filled in. */
export interface AlertRecord {
  alert_id: string;
  correlation_id: string;
  timestamp: string;
  alert_name: string;
  alert_type: string;
  severity: string;
  description: string | null;
  source_service_name: string | null;
  rule_id: string | null;
  rule_name: string | null;
  actor_type: string | null;
  actor_id: string | null;
  client_ip: string | null;
  resource_type: string | null;
  resource_id: string | null;
  server_hostname: string | null;
  action_observed: string | null;
  analysis_rule_details: object | null;
  triggered_by_details: object | null;
  impacted_resource_details: object | null;
  metadata: object;
  raw_event_data: object;
  count: number;
  first_seen: string;
  last_seen: string;
  fingerprint: string;
  group_key: Record<string, string> | null;
  /** Kind of the triggering event's source (k8s_audit, syslog, journald, synthetic); null when not said. */
  origin: string | null;
  origin_sender: string | null;
  /** The producer's bounded evidence (alert.evidence), kept as sent. */
  evidence: object | null;
}

/** inserted: a new row; updated: an existing row moved on (count, last_seen); duplicate: nothing new. */
export type UpsertOutcome = 'inserted' | 'updated' | 'duplicate';

export interface AlertFilters {
  severity?: readonly string[];
  status?: readonly AlertStatus[];
  ruleId?: readonly string[];
  actorId?: string;
  host?: string;
  /** Origins; `none` stands for alerts whose producer named no origin. */
  origin?: readonly string[];
  sourceService?: string;
  /** Inclusive lower bound on `timestamp`. */
  since?: Date;
  /** Exclusive upper bound on `timestamp`. */
  until?: Date;
  /** Words, each matched as a prefix in alert_name, description, origin, its sender or program. */
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

/** The raw material of GET /alerts/{id}/evidence: the stored evidence, and the last triggering event. */
export interface StoredEvidence {
  evidence: string | null;
  raw: string;
  count: number;
  origin: string | null;
}

export interface ActivityQuery {
  host?: string;
  user?: string;
  address?: string;
  since: Date;
  until: Date;
  limit: number;
}

export interface ActivityRow {
  json: string;
  evidence: string | null;
  raw: string;
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
  /** The stored evidence of one alert, or undefined for an unknown id. */
  getEvidence(alertId: string): Promise<StoredEvidence | undefined>;
  /** Alerts about a host, user or address whose episode overlaps the window, newest first. */
  activity(query: ActivityQuery): Promise<ActivityRow[]>;
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
