/** The store's fixed statements, in one place so both drivers run exactly the same SQL. */

const RECORD_COLUMNS = `
  alert_id uuid, correlation_id uuid, "timestamp" timestamptz, alert_name text, alert_type text, severity text,
  description text, source_service_name text, rule_id text, rule_name text, actor_type text, actor_id text,
  client_ip inet, resource_type text, resource_id text, server_hostname text, action_observed text,
  analysis_rule_details jsonb, triggered_by_details jsonb, impacted_resource_details jsonb, metadata jsonb,
  raw_event_data jsonb, count integer, first_seen timestamptz, last_seen timestamptz, fingerprint text, group_key jsonb,
  origin text, origin_sender text, evidence jsonb`;

const INSERT_COLUMNS = `alert_id, correlation_id, "timestamp", alert_name, alert_type, severity, description,
  source_service_name, rule_id, rule_name, actor_type, actor_id, client_ip, resource_type, resource_id,
  server_hostname, action_observed, analysis_rule_details, triggered_by_details, impacted_resource_details,
  metadata, raw_event_data, count, first_seen, last_seen, fingerprint, group_key, origin, origin_sender, evidence`;

/**
 * The whole batch travels as one JSON parameter, so the statement text never
 * changes with the batch size (one prepared plan). A repeat of a known
 * alert_id folds into the row: count and last_seen only rise, first_seen only
 * falls, the lifecycle status is kept. A row is written only when something
 * moved, so a redelivery returns no row: that is how "duplicate" is told apart. The row's
 * API JSON is built here for new rows (the trigger only rebuilds it on update).
 * The batch is read as jsonb: the nested objects (details, metadata, raw event) then reach
 * their jsonb columns as they are, where json had each of them parsed a second time.
 */
export const UPSERT_ALERTS = `
INSERT INTO alerts (${INSERT_COLUMNS}, received_at, updated_at, row_json)
SELECT ${INSERT_COLUMNS}, NOW(), NOW(), af_row_json(
  r.alert_id, r.correlation_id, r."timestamp", NOW(), r.alert_name, r.alert_type, r.severity, r.description,
  r.source_service_name, r.rule_id, r.rule_name, r.actor_type, r.actor_id, r.client_ip, r.resource_type,
  r.resource_id, r.server_hostname, r.action_observed, r.analysis_rule_details, r.triggered_by_details,
  r.impacted_resource_details, r.metadata, r.raw_event_data, 'open', NULL, NULL, NULL, r.count, r.first_seen,
  r.last_seen, r.fingerprint, r.group_key, NOW(), r.origin, r.origin_sender, r.evidence)
FROM jsonb_to_recordset($1::jsonb) AS r(${RECORD_COLUMNS})
ON CONFLICT (alert_id) DO UPDATE SET
  count = GREATEST(alerts.count, EXCLUDED.count),
  first_seen = LEAST(alerts.first_seen, EXCLUDED.first_seen),
  last_seen = GREATEST(alerts.last_seen, EXCLUDED.last_seen),
  description = CASE WHEN EXCLUDED.last_seen >= alerts.last_seen THEN EXCLUDED.description ELSE alerts.description END,
  metadata = CASE WHEN EXCLUDED.last_seen >= alerts.last_seen THEN EXCLUDED.metadata ELSE alerts.metadata END,
  raw_event_data = CASE WHEN EXCLUDED.last_seen >= alerts.last_seen THEN EXCLUDED.raw_event_data ELSE alerts.raw_event_data END,
  -- Always the event of raw_event_data: the one that produced the stored version (docs/api.md).
  correlation_id = CASE WHEN EXCLUDED.last_seen >= alerts.last_seen THEN EXCLUDED.correlation_id ELSE alerts.correlation_id END,
  origin = CASE WHEN EXCLUDED.last_seen >= alerts.last_seen THEN coalesce(EXCLUDED.origin, alerts.origin) ELSE alerts.origin END,
  origin_sender = CASE WHEN EXCLUDED.last_seen >= alerts.last_seen THEN coalesce(EXCLUDED.origin_sender, alerts.origin_sender) ELSE alerts.origin_sender END,
  -- The newer version's evidence, except that its earliest events stay when the stored version
  -- knew more of them (a producer restarted in the middle of the episode forgot them).
  evidence = CASE
    WHEN EXCLUDED.last_seen < alerts.last_seen OR EXCLUDED.evidence IS NULL THEN alerts.evidence
    WHEN alerts.evidence IS NOT NULL
      AND jsonb_array_length(alerts.evidence->'first') > jsonb_array_length(EXCLUDED.evidence->'first')
      THEN EXCLUDED.evidence || jsonb_build_object('first', alerts.evidence->'first', 'unresolved', coalesce(alerts.evidence->'unresolved', '0'::jsonb))
    ELSE EXCLUDED.evidence END,
  updated_at = NOW()
WHERE EXCLUDED.count > alerts.count OR EXCLUDED.last_seen > alerts.last_seen OR EXCLUDED.first_seen < alerts.first_seen
RETURNING alert_id::text AS alert_id, (xmax = 0) AS inserted`;

export const NOTIFY_MANY = `SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload`;

export const FETCH_CHANGED = `
SELECT a.alert_id::text AS alert_id, a.row_json AS json FROM alerts a WHERE a.alert_id = ANY($1::uuid[])`;

export const GET_ALERT = `
SELECT a.row_json AS json,
  (SELECT coalesce(json_agg(json_build_object(
      'from_status', h.from_status, 'to_status', h.to_status, 'actor', h.actor, 'note', h.note, 'at', af_iso(h.at))
      ORDER BY h.at, h.id), '[]'::json)::text
   FROM alert_status_history h WHERE h.alert_id = a.alert_id) AS history
FROM alerts a WHERE a.alert_id = $1::uuid`;

/** The stored evidence of one alert with the raw event it was last updated by (the only event an alert without evidence has). */
export const GET_EVIDENCE = `
SELECT a.evidence::text AS evidence, a.raw_event_data::text AS raw, a.count, a.origin FROM alerts a WHERE a.alert_id = $1::uuid`;

/**
 * Alerts about one host, user or address whose episode overlaps [since, until), newest first,
 * with their evidence: the activity view. The column tests match the indexes of 006.
 */
export const ACTIVITY = `
SELECT a.row_json AS json, a.evidence::text AS evidence, a.raw_event_data::text AS raw FROM alerts a
WHERE ($1::text IS NULL OR a.server_hostname = $1)
  AND ($2::text IS NULL OR a.actor_id = $2)
  AND ($3::inet IS NULL OR a.client_ip = $3::inet)
  AND a.last_seen >= $4::timestamptz AND a.first_seen < $5::timestamptz
ORDER BY a.last_seen DESC, a.alert_id LIMIT $6`;

export const LOCK_FOR_STATUS = `SELECT status, status_note FROM alerts WHERE alert_id = $1::uuid FOR UPDATE`;

export const SET_STATUS = `
UPDATE alerts a SET status = $2, status_changed_at = NOW(), status_changed_by = $3, status_note = $4, updated_at = NOW()
WHERE a.alert_id = $1::uuid RETURNING a.row_json AS json`;

export const INSERT_HISTORY = `
INSERT INTO alert_status_history (alert_id, from_status, to_status, actor, note) VALUES ($1::uuid, $2, $3, $4, $5)`;

/** Oldest first through the keyset index; SKIP LOCKED lets replicas purge side by side. */
export const PURGE_BATCH = `
WITH doomed AS (
  SELECT alert_id FROM alerts WHERE "timestamp" < $1::timestamptz ORDER BY "timestamp" LIMIT $2 FOR UPDATE SKIP LOCKED
), gone AS (
  DELETE FROM alerts a USING doomed d WHERE a.alert_id = d.alert_id RETURNING 1
)
SELECT count(*)::int AS deleted FROM gone`;

export const CURRENT_SCHEMA = `SELECT current_schema() AS schema`;
