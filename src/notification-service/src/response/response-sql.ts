/** The response decisions' statements (migration 008), shared by PostgreSQL and PGlite. */

export const DECISION_JSON = `json_build_object(
  'id', r.id, 'alert_id', r.alert_id, 'output', r.output, 'mode', r.mode, 'address', r.address,
  'type', r.decision_type, 'duration_seconds', r.duration_ms / 1000, 'state', r.state, 'reason', r.reason,
  'decided_by', r.decided_by, 'lapi_alert_id', r.lapi_alert_id, 'lapi_decision_ids', to_json(r.lapi_decision_ids),
  'last_error', r.last_error, 'created_at', af_iso(r.created_at), 'pushed_at', af_iso(r.pushed_at),
  'expires_at', af_iso(r.expires_at), 'undone_at', af_iso(r.undone_at), 'undone_by', r.undone_by,
  'updated_at', af_iso(r.updated_at))::text`;

/** A second delivery of the same alert to the same output finds the first one's decision. */
export const INSERT_DECISION = `
WITH r AS (
  INSERT INTO response_decisions (id, alert_id, output, mode, address, duration_ms, state, reason, decided_by)
  VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::bigint, $7, $8, $9)
  ON CONFLICT (alert_id, output) DO NOTHING
  RETURNING *
) SELECT ${DECISION_JSON} AS json FROM r`;

export const GET_DECISION_FOR = `SELECT ${DECISION_JSON} AS json FROM response_decisions r WHERE r.alert_id = $1::uuid AND r.output = $2`;

export const GET_DECISION = `SELECT ${DECISION_JSON} AS json FROM response_decisions r WHERE r.id = $1::uuid AND r.alert_id = $2::uuid`;

/** Only a pending decision becomes pushed: an undo that came first wins, and the caller takes the ban back. */
export const MARK_PUSHED = `
UPDATE response_decisions r SET state = 'pushed', lapi_alert_id = $2, lapi_decision_ids = $3::text[], last_error = NULL,
  pushed_at = NOW(), expires_at = NOW() + r.duration_ms * interval '1 millisecond', updated_at = NOW()
WHERE r.id = $1::uuid AND r.state = 'pending'
RETURNING ${DECISION_JSON} AS json`;

export const MARK_SKIPPED = `
UPDATE response_decisions r SET state = 'skipped', reason = $2, updated_at = NOW()
WHERE r.id = $1::uuid AND r.state = 'pending'
RETURNING ${DECISION_JSON} AS json`;

/**
 * A pending decision whose output was switched to dry-run before its push: recorded as dry-run,
 * like a decision that output would make now, so it is shown and never pushed nor left pending.
 */
export const MARK_RECORDED = `
UPDATE response_decisions r SET state = 'recorded', mode = 'dry-run', last_error = NULL, updated_at = NOW()
WHERE r.id = $1::uuid AND r.state = 'pending'
RETURNING ${DECISION_JSON} AS json`;

export const MARK_PUSH_FAILED = `
UPDATE response_decisions r SET last_error = $2, updated_at = NOW() WHERE r.id = $1::uuid AND r.state = 'pending'
RETURNING r.id`;

export const MARK_UNDONE = `
UPDATE response_decisions r SET state = 'undone', undone_at = NOW(), undone_by = $2, updated_at = NOW()
WHERE r.id = $1::uuid AND r.state IN ('pending', 'pushed', 'recorded')
RETURNING ${DECISION_JSON} AS json`;

export const INSERT_EVENT = `
INSERT INTO response_events (decision_id, alert_id, action, actor, detail) VALUES ($1::uuid, $2::uuid, $3, $4, $5)`;

export const LIST_FOR_ALERT = `
SELECT
  (SELECT coalesce(json_agg(${DECISION_JSON} ::json ORDER BY r.created_at, r.id), '[]'::json)::text
     FROM response_decisions r WHERE r.alert_id = $1::uuid) AS decisions,
  (SELECT coalesce(json_agg(json_build_object('decision_id', e.decision_id, 'action', e.action, 'actor', e.actor,
      'detail', e.detail, 'at', af_iso(e.at)) ORDER BY e.at, e.id), '[]'::json)::text
     FROM response_events e WHERE e.alert_id = $1::uuid) AS events`;

export const SEEN_OPERATOR = `
INSERT INTO response_operator_addresses (address, seen_by, last_seen) VALUES ($1, $2, NOW())
ON CONFLICT (address) DO UPDATE SET seen_by = EXCLUDED.seen_by, last_seen = NOW()`;

/** Bounded: an address not seen for the longest allowed lifetime is forgotten. */
export const FORGET_OPERATORS = `DELETE FROM response_operator_addresses WHERE last_seen < NOW() - $1::bigint * interval '1 millisecond'`;

export const OPERATOR_SEEN_WITHIN = `
SELECT seen_by FROM response_operator_addresses WHERE address = $1 AND last_seen >= NOW() - $2::bigint * interval '1 millisecond'`;
