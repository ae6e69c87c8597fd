-- Lifecycle (open -> acknowledged -> resolved) and aggregation of repeated alerts.
ALTER TABLE alerts
    ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'open',
    ADD COLUMN status_changed_at TIMESTAMP WITH TIME ZONE,
    ADD COLUMN status_changed_by VARCHAR(255),
    ADD COLUMN status_note TEXT,
    ADD COLUMN count INTEGER NOT NULL DEFAULT 1,
    ADD COLUMN first_seen TIMESTAMP WITH TIME ZONE,
    ADD COLUMN last_seen TIMESTAMP WITH TIME ZONE,
    ADD COLUMN fingerprint VARCHAR(128),
    ADD COLUMN group_key JSONB,
    ADD COLUMN updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW();

-- Rows adopted from the original service get their episode bounds from the alert time.
UPDATE alerts SET first_seen = "timestamp", last_seen = "timestamp" WHERE first_seen IS NULL;

ALTER TABLE alerts
    ALTER COLUMN first_seen SET NOT NULL,
    ALTER COLUMN last_seen SET NOT NULL,
    ADD CONSTRAINT alerts_status_check CHECK (status IN ('open', 'acknowledged', 'resolved')),
    ADD CONSTRAINT alerts_count_check CHECK (count >= 1),
    ADD CONSTRAINT alerts_status_note_length CHECK (char_length(status_note) <= 2000);

-- The audit trail of every status change; it goes when its alert is purged.
CREATE TABLE alert_status_history (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id UUID NOT NULL REFERENCES alerts (alert_id) ON DELETE CASCADE,
    from_status VARCHAR(16) NOT NULL,
    to_status VARCHAR(16) NOT NULL,
    actor VARCHAR(255) NOT NULL,
    note TEXT,
    at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX alert_status_history_alert_idx ON alert_status_history (alert_id, at);

-- The list is ordered by (timestamp DESC, alert_id DESC) and paged by keyset on the same pair.
-- Each filter column leads a composite with that order, so a filtered page is an index range
-- scan that stops after `limit` rows instead of a sort, however selective the filter is.
CREATE INDEX alerts_keyset_idx ON alerts ("timestamp" DESC, alert_id DESC);
CREATE INDEX alerts_severity_keyset_idx ON alerts (severity, "timestamp" DESC, alert_id DESC);
CREATE INDEX alerts_host_keyset_idx ON alerts (server_hostname, "timestamp" DESC, alert_id DESC);
CREATE INDEX alerts_actor_keyset_idx ON alerts (actor_id, "timestamp" DESC, alert_id DESC);
CREATE INDEX alerts_rule_keyset_idx ON alerts (rule_id, "timestamp" DESC, alert_id DESC);
CREATE INDEX alerts_status_keyset_idx ON alerts (status, "timestamp" DESC, alert_id DESC);
