/** The outbox's statements (migration 007), shared by PostgreSQL and PGlite. */

const MS = `* interval '1 millisecond'`;

/**
 * Enqueues planned notifications in the alert upsert's transaction. A notification joins the
 * pending ones of its group (same output and group key) so they go out together, else it waits
 * the route's group_wait. An alert that already has a pending notification to that output, or
 * one made within repeat_interval, gets none: a growing count does not re-notify before then.
 */
export const ENQUEUE_FIRING = `
INSERT INTO deliveries (id, alert_id, output, type, group_key, kind, max_attempts, next_attempt_at)
SELECT gen_random_uuid(), p.alert_id, p.output, p.type, p.group_key, 'firing', p.max_attempts,
  COALESCE(
    (SELECT min(g.next_attempt_at) FROM deliveries g
      WHERE g.output = p.output AND g.group_key = p.group_key AND g.status = 'pending' AND g.attempts = 0
        AND g.next_attempt_at > NOW()),
    NOW() + p.group_wait_ms ${MS})
FROM jsonb_to_recordset($1::jsonb) AS p(alert_id uuid, output text, type text, group_key text, group_wait_ms bigint,
  repeat_interval_ms bigint, max_attempts integer)
WHERE NOT EXISTS (
  SELECT 1 FROM deliveries d
  WHERE d.alert_id = p.alert_id AND d.output = p.output AND d.kind = 'firing'
    AND (d.status = 'pending' OR d.created_at > NOW() - p.repeat_interval_ms ${MS}))
RETURNING 1`;

/** A resolution is told to every output that was told the alert fired. */
export const ENQUEUE_RESOLVED = `
INSERT INTO deliveries (id, alert_id, output, type, group_key, kind, max_attempts, next_attempt_at)
SELECT DISTINCT ON (d.output) gen_random_uuid(), d.alert_id, d.output, d.type, d.group_key, 'resolved', d.max_attempts, NOW()
FROM deliveries d
WHERE d.alert_id = $1::uuid AND d.kind = 'firing' AND d.status = 'sent'
ORDER BY d.output, d.created_at DESC
RETURNING 1`;

/**
 * Claims due notifications for one worker: SKIP LOCKED lets replicas claim side by side without
 * waiting on or taking each other's rows, and the lease (owner, until) keeps a claimed row from
 * every other worker while it is sent. A row whose lease ran out (its replica died) is due again.
 */
export const CLAIM_DUE = `
WITH due AS (
  SELECT id FROM deliveries
  WHERE status = 'pending' AND next_attempt_at <= NOW() AND (lease_until IS NULL OR lease_until < NOW())
  ORDER BY next_attempt_at, id
  LIMIT $1
  FOR UPDATE SKIP LOCKED
)
UPDATE deliveries d
SET lease_owner = $2, lease_until = NOW() + $3::bigint ${MS}, attempts = d.attempts + 1, updated_at = NOW()
FROM due WHERE d.id = due.id
RETURNING d.id::text AS id, d.alert_id::text AS alert_id, d.output, d.type, d.group_key, d.kind, d.attempts,
  d.max_attempts, (SELECT a.row_json FROM alerts a WHERE a.alert_id = d.alert_id) AS json`;

const RELEASE = `lease_owner = NULL, lease_until = NULL, updated_at = NOW()`;

/** Only while the lease is still ours: a row another worker took over is theirs to settle. */
export const MARK_SENT = `
UPDATE deliveries SET status = 'sent', sent_at = NOW(), last_error = NULL, ${RELEASE}
WHERE id = ANY($1::uuid[]) AND lease_owner = $2
RETURNING id::text AS id`;

export const MARK_FAILED = `
UPDATE deliveries
SET status = CASE WHEN $5::boolean OR attempts >= max_attempts THEN 'failed' ELSE 'pending' END,
  next_attempt_at = NOW() + $3::bigint ${MS}, last_error = $4, ${RELEASE}
WHERE id = ANY($1::uuid[]) AND lease_owner = $2
RETURNING id::text AS id, status`;

/** Silenced is not an attempt: the claim's count is taken back. */
export const MARK_SILENCED = `
UPDATE deliveries SET status = 'silenced', silenced_by = $3::uuid[], attempts = attempts - 1, ${RELEASE}
WHERE id = $1::uuid AND lease_owner = $2
RETURNING id::text AS id`;

export const LIST_FOR_ALERT = `
SELECT json_build_object(
  'id', d.id, 'output', d.output, 'type', d.type, 'status', d.status, 'attempts', d.attempts,
  'last_error', d.last_error,
  'next_attempt_at', CASE WHEN d.status = 'pending' THEN af_iso(d.next_attempt_at) END,
  'sent_at', af_iso(d.sent_at), 'created_at', af_iso(d.created_at), 'updated_at', af_iso(d.updated_at))::text AS json
FROM deliveries d WHERE d.alert_id = $1::uuid
ORDER BY d.created_at, d.id`;

export const COUNT_PENDING = `SELECT count(*)::int AS pending FROM deliveries WHERE status = 'pending'`;
