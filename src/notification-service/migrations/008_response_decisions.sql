-- Response decisions (docs/outputs.md, "Response: blocking with CrowdSec"): one row per alert and
-- crowdsec output, made by the outbox worker when it handles the alert's delivery to that output.
-- The row's id is the decision's stable identifier: it is written into the CrowdSec alert's meta
-- (auditflow_decision_id) so a retried push first finds the decision it may already have made.
CREATE TABLE response_decisions (
    id UUID PRIMARY KEY,
    alert_id UUID NOT NULL REFERENCES alerts (alert_id) ON DELETE CASCADE,
    output TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('dry-run', 'enforce')),
    -- The address to ban; NULL when the alert carries none (state skipped, reason says so).
    address TEXT,
    decision_type TEXT NOT NULL DEFAULT 'ban',
    duration_ms BIGINT NOT NULL CHECK (duration_ms > 0),
    -- pending: to be pushed (enforce) · pushed: the LAPI has it · recorded: dry-run, never pushed
    -- · skipped: never pushed (reason) · undone: deleted from the LAPI (or withdrawn before a push).
    state TEXT NOT NULL CHECK (state IN ('pending', 'pushed', 'recorded', 'skipped', 'undone')),
    reason TEXT,
    decided_by TEXT NOT NULL,
    lapi_alert_id TEXT,
    lapi_decision_ids TEXT[],
    last_error TEXT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    pushed_at TIMESTAMP WITH TIME ZONE,
    expires_at TIMESTAMP WITH TIME ZONE,
    undone_at TIMESTAMP WITH TIME ZONE,
    undone_by TEXT,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    UNIQUE (alert_id, output)
);

-- Who did what to a decision, oldest first (the alert page's response history).
CREATE TABLE response_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    decision_id UUID NOT NULL REFERENCES response_decisions (id) ON DELETE CASCADE,
    alert_id UUID NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('decided', 'recorded', 'skipped', 'pushed', 'push-failed', 'undone')),
    actor TEXT NOT NULL,
    detail TEXT,
    at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX response_events_alert ON response_events (alert_id, at);

-- Addresses the dashboard's users were seen at (forwarded by an authenticated dashboard); an
-- address seen within an output's operator_allow_for is never banned by it.
CREATE TABLE response_operator_addresses (
    address TEXT PRIMARY KEY,
    seen_by TEXT NOT NULL,
    last_seen TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);
CREATE INDEX response_operator_addresses_seen ON response_operator_addresses (last_seen);
