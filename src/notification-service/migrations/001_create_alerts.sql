-- The original service's alerts table, column for column (reference section 4.3).
-- IF NOT EXISTS lets this migration adopt a database the original service already created.
CREATE TABLE IF NOT EXISTS alerts (
    alert_id UUID PRIMARY KEY,
    correlation_id UUID NOT NULL,
    "timestamp" TIMESTAMP WITH TIME ZONE NOT NULL,
    received_at TIMESTAMP WITH TIME ZONE DEFAULT NOW(),
    alert_name VARCHAR(255) NOT NULL,
    alert_type VARCHAR(50) NOT NULL,
    severity VARCHAR(50) NOT NULL,
    description TEXT,
    source_service_name VARCHAR(255),
    rule_id VARCHAR(255),
    rule_name VARCHAR(255),
    actor_type VARCHAR(50),
    actor_id VARCHAR(255),
    client_ip INET,
    resource_type VARCHAR(50),
    resource_id VARCHAR(255),
    server_hostname VARCHAR(255),
    action_observed VARCHAR(255),
    analysis_rule_details JSONB,
    triggered_by_details JSONB,
    impacted_resource_details JSONB,
    metadata JSONB,
    raw_event_data JSONB NOT NULL
);

-- The original's single-column and GIN indexes: nothing queries the JSONB ones, and every
-- index costs ingest throughput; 002 replaces the others with keyset-ordered composites.
DROP INDEX IF EXISTS idx_alerts_metadata_gin;
DROP INDEX IF EXISTS idx_alerts_raw_event_data_gin;
DROP INDEX IF EXISTS idx_alerts_timestamp;
DROP INDEX IF EXISTS idx_alerts_alert_type;
DROP INDEX IF EXISTS idx_alerts_severity;
DROP INDEX IF EXISTS idx_alerts_actor_id;
DROP INDEX IF EXISTS idx_alerts_server_hostname;
DROP INDEX IF EXISTS idx_alerts_rule_name;
