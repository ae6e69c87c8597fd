-- Transactional outbox: one row per (alert, output) notification, written in the transaction
-- that stores or updates the alert, so a notification exists exactly when the alert change
-- committed. Workers of every replica claim due rows with FOR UPDATE SKIP LOCKED and hold a
-- lease while sending; an expired lease (a killed replica) makes the row claimable again.
CREATE TABLE deliveries (
    id UUID PRIMARY KEY,
    alert_id UUID NOT NULL REFERENCES alerts (alert_id) ON DELETE CASCADE,
    output TEXT NOT NULL,
    type TEXT NOT NULL,
    -- The route's grouping: notifications sharing it are sent together.
    group_key TEXT NOT NULL,
    -- What made it: a new or grown alert (firing) or its resolution (resolved).
    kind TEXT NOT NULL CHECK (kind IN ('firing', 'resolved')),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'silenced')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    last_error TEXT,
    next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP WITH TIME ZONE,
    silenced_by UUID[],
    sent_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW()
);

-- The worker's claim: due pending rows, oldest first.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
-- GET /alerts/{id}/deliveries and the repeat_interval check.
CREATE INDEX deliveries_alert ON deliveries (alert_id, output, created_at DESC);
-- Aligning a new notification with its group's pending ones (group_wait).
CREATE INDEX deliveries_pending_group ON deliveries (output, group_key) WHERE status = 'pending';

CREATE TABLE silences (
    id UUID PRIMARY KEY,
    matchers JSONB NOT NULL,
    created_by TEXT NOT NULL,
    comment TEXT NOT NULL,
    starts_at TIMESTAMP WITH TIME ZONE NOT NULL,
    ends_at TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    CHECK (ends_at >= starts_at)
);

CREATE INDEX silences_ends_at ON silences (ends_at);
