-- Where each alert came from and the events that made it.
-- origin: the kind of the triggering event's source block (k8s_audit, syslog, journald, or
-- synthetic for the generator's demo stream); origin_sender: the peer or host that sent it.
-- Routes, silences, the API filter and the dashboard read these columns. evidence: the bounded
-- sample of events the producer attached (first and last events with their total).
ALTER TABLE alerts ADD COLUMN origin TEXT;
ALTER TABLE alerts ADD COLUMN origin_sender TEXT;
ALTER TABLE alerts ADD COLUMN evidence JSONB;

-- Alerts stored before, and rows an original writer inserts (it knows none of these columns),
-- take their origin from the raw event, which carries the source block.
CREATE OR REPLACE FUNCTION af_alerts_origin_defaults() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.origin := coalesce(NEW.origin, NEW.raw_event_data->'source'->>'kind');
    NEW.origin_sender := coalesce(NEW.origin_sender, NEW.raw_event_data->'source'->>'peer', NEW.raw_event_data->'source'->>'host');
    RETURN NEW;
END
$$;

-- Named to sort after alerts_episode_defaults and before alerts_row_json_on_insert (triggers
-- of one event fire in name order), so the row JSON sees the origin.
CREATE TRIGGER alerts_origin_defaults_on_insert BEFORE INSERT ON alerts
    FOR EACH ROW WHEN (NEW.origin IS NULL) EXECUTE FUNCTION af_alerts_origin_defaults();

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
    p_updated_at timestamptz,
    p_origin text,
    p_origin_sender text,
    p_evidence jsonb
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
        'updated_at', af_iso(p_updated_at),
        'origin', p_origin,
        'origin_sender', p_origin_sender,
        'has_evidence', p_evidence IS NOT NULL
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
        NEW.updated_at,
        NEW.origin,
        NEW.origin_sender,
        NEW.evidence);
    RETURN NEW;
END
$$;

-- Search matches the origin and its sender too (q=syslog, q=sshd, q=synthetic): the search
-- vector is rebuilt with them and the program that wrote the record.
DROP INDEX alerts_search_idx;
ALTER TABLE alerts DROP COLUMN search_vector;
ALTER TABLE alerts
    ADD COLUMN search_vector TSVECTOR GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, regexp_replace(
            coalesce(alert_name, '') || ' ' || coalesce(description, '') || ' ' || coalesce(origin, '') || ' '
            || coalesce(origin_sender, '') || ' ' || coalesce(raw_event_data->'source'->>'program', ''),
            '[[:punct:][:space:]]+', ' ', 'g'))
    ) STORED;
CREATE INDEX alerts_search_idx ON alerts USING GIN (search_vector);

-- The origin filter of the list and the activity view, newest first.
CREATE INDEX alerts_origin_ts ON alerts (origin, "timestamp" DESC);

-- Rows stored before this migration: origin from their raw event (the update trigger rebuilds row_json).
UPDATE alerts SET
    origin = raw_event_data->'source'->>'kind',
    origin_sender = coalesce(raw_event_data->'source'->>'peer', raw_event_data->'source'->>'host')
WHERE raw_event_data ? 'source';
