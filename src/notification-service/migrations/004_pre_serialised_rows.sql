-- Each row keeps its API JSON (the row shape of docs/api.md). Building it costs more than
-- reading a whole page of stored JSON, so a write pays it once instead of every read of every
-- page. The ingest upsert builds it in the statement itself (af_row_json, inlined by the
-- planner); a trigger covers every other write (status changes, folded repeats, manual SQL).
ALTER TABLE alerts ADD COLUMN row_json TEXT;

CREATE OR REPLACE FUNCTION af_row_json(
    p_alert_id uuid,
    p_correlation_id uuid,
    p_ts timestamptz,
    p_received_at timestamptz,
    p_alert_name text,
    p_alert_type text,
    p_severity text,
    p_description text,
    p_source_service_name text,
    p_rule_id text,
    p_rule_name text,
    p_actor_type text,
    p_actor_id text,
    p_client_ip inet,
    p_resource_type text,
    p_resource_id text,
    p_server_hostname text,
    p_action_observed text,
    p_analysis_rule_details jsonb,
    p_triggered_by_details jsonb,
    p_impacted_resource_details jsonb,
    p_metadata jsonb,
    p_raw_event_data jsonb,
    p_status text,
    p_status_changed_at timestamptz,
    p_status_changed_by text,
    p_status_note text,
    p_count integer,
    p_first_seen timestamptz,
    p_last_seen timestamptz,
    p_fingerprint text,
    p_group_key jsonb,
    p_updated_at timestamptz
) RETURNS TEXT
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT json_build_object(
        'alert_id', p_alert_id,
        'correlation_id', p_correlation_id,
        'timestamp', af_iso(p_ts),
        'received_at', af_iso(p_received_at),
        'alert_name', p_alert_name,
        'alert_type', p_alert_type,
        'severity', p_severity,
        'description', p_description,
        'source_service_name', p_source_service_name,
        'rule_id', p_rule_id,
        'rule_name', p_rule_name,
        'actor_type', p_actor_type,
        'actor_id', p_actor_id,
        'client_ip', p_client_ip,
        'resource_type', p_resource_type,
        'resource_id', p_resource_id,
        'server_hostname', p_server_hostname,
        'action_observed', p_action_observed,
        'analysis_rule_details', p_analysis_rule_details,
        'triggered_by_details', p_triggered_by_details,
        'impacted_resource_details', p_impacted_resource_details,
        'metadata', p_metadata,
        'raw_event_data', p_raw_event_data,
        'status', p_status,
        'status_changed_at', af_iso(p_status_changed_at),
        'status_changed_by', p_status_changed_by,
        'status_note', p_status_note,
        'count', p_count,
        'first_seen', af_iso(p_first_seen),
        'last_seen', af_iso(p_last_seen),
        'fingerprint', p_fingerprint,
        'group_key', p_group_key,
        'updated_at', af_iso(p_updated_at)
    )::text
    $$;

CREATE OR REPLACE FUNCTION af_alerts_row_json() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.row_json := af_row_json(
        NEW.alert_id,
        NEW.correlation_id,
        NEW."timestamp",
        NEW.received_at,
        NEW.alert_name,
        NEW.alert_type,
        NEW.severity,
        NEW.description,
        NEW.source_service_name,
        NEW.rule_id,
        NEW.rule_name,
        NEW.actor_type,
        NEW.actor_id,
        NEW.client_ip,
        NEW.resource_type,
        NEW.resource_id,
        NEW.server_hostname,
        NEW.action_observed,
        NEW.analysis_rule_details,
        NEW.triggered_by_details,
        NEW.impacted_resource_details,
        NEW.metadata,
        NEW.raw_event_data,
        NEW.status,
        NEW.status_changed_at,
        NEW.status_changed_by,
        NEW.status_note,
        NEW.count,
        NEW.first_seen,
        NEW.last_seen,
        NEW.fingerprint,
        NEW.group_key,
        NEW.updated_at);
    RETURN NEW;
END
$$;

CREATE TRIGGER alerts_row_json_on_update BEFORE UPDATE ON alerts
    FOR EACH ROW EXECUTE FUNCTION af_alerts_row_json();
CREATE TRIGGER alerts_row_json_on_insert BEFORE INSERT ON alerts
    FOR EACH ROW WHEN (NEW.row_json IS NULL) EXECUTE FUNCTION af_alerts_row_json();

-- Rows written before this migration get their JSON now (the update trigger fires).
UPDATE alerts SET row_json = NULL WHERE row_json IS NULL;

ALTER TABLE alerts ALTER COLUMN row_json SET NOT NULL;
