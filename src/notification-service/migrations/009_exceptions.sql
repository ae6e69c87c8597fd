-- Exceptions ("never alert on this"), saved from the dashboard or the API. The analysis does not
-- read this table: it loads the exceptions file (EXCEPTIONS_FILE), which GET /exceptions.yaml
-- renders from these rows (and the service writes itself where that file is writable).
CREATE TABLE alert_exceptions (
    id TEXT PRIMARY KEY,
    rule_id TEXT NOT NULL,
    -- Alert label -> exact value; every pair must hold.
    fields JSONB NOT NULL,
    author TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    expires_at TIMESTAMP WITH TIME ZONE,
    CHECK (expires_at IS NULL OR expires_at > created_at)
);

CREATE INDEX alert_exceptions_rule ON alert_exceptions (rule_id, created_at);
