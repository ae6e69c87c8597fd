-- The original notification service may still write to this table while both run side by side
-- (reference section 4.3): keep its indexes, and let its plain 22-column INSERT (no received_at,
-- no ON CONFLICT) satisfy every column added since, so it never fails on a migrated database.

-- Its indexes, under its names and on its columns. 001 dropped them to save ingest time; the
-- original creates them again at every start (CREATE INDEX IF NOT EXISTS), so keeping them is
-- the only state both services agree on.
CREATE INDEX IF NOT EXISTS idx_alerts_timestamp ON alerts ("timestamp" DESC);
CREATE INDEX IF NOT EXISTS idx_alerts_alert_type ON alerts (alert_type);
CREATE INDEX IF NOT EXISTS idx_alerts_severity ON alerts (severity);
CREATE INDEX IF NOT EXISTS idx_alerts_actor_id ON alerts (actor_id);
CREATE INDEX IF NOT EXISTS idx_alerts_server_hostname ON alerts (server_hostname);
CREATE INDEX IF NOT EXISTS idx_alerts_rule_name ON alerts (rule_name);
CREATE INDEX IF NOT EXISTS idx_alerts_metadata_gin ON alerts USING GIN (metadata);
CREATE INDEX IF NOT EXISTS idx_alerts_raw_event_data_gin ON alerts USING GIN (raw_event_data);

-- The NOT NULL columns an original INSERT leaves out: status, count and updated_at have
-- defaults (002), row_json is built by a trigger (004), and first_seen/last_seen (002) get the
-- alert's own timestamp here, as 002 did for the rows it adopted. A column default cannot
-- name another column, hence a trigger; its name sorts before alerts_row_json_on_insert, and
-- PostgreSQL fires triggers of one event in name order, so the row JSON sees the values.
CREATE OR REPLACE FUNCTION af_alerts_episode_defaults() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.first_seen := coalesce(NEW.first_seen, NEW."timestamp");
    NEW.last_seen := coalesce(NEW.last_seen, NEW."timestamp");
    RETURN NEW;
END
$$;

CREATE TRIGGER alerts_episode_defaults_on_insert BEFORE INSERT ON alerts
    FOR EACH ROW WHEN (NEW.first_seen IS NULL OR NEW.last_seen IS NULL)
    EXECUTE FUNCTION af_alerts_episode_defaults();
