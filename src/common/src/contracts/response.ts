import { type Static, Type } from '@sinclair/typebox';
import { AfInvalidAlertIdError, AfInvalidDecisionIdError } from '../errors.ts';
import { UUID_SYNTAX } from '../ids.ts';
import { MAX_ACTOR, MAX_NOTE } from './notification-api.ts';

/**
 * Response decisions of crowdsec outputs (`GET /alerts/{id}/response`, docs/api.md,
 * docs/outputs.md "Response: blocking with CrowdSec").
 * - pending: enforce mode, to be pushed (retried like any delivery)
 * - pushed: the Local API has it; bouncers enforce it until expires_at
 * - recorded: dry-run mode, shown and never pushed
 * - skipped: never pushed; `reason` says why (no address, allowlisted, …)
 * - undone: deleted from the Local API (or withdrawn before its push) by `undone_by`
 */
export const DECISION_STATES = ['pending', 'pushed', 'recorded', 'skipped', 'undone'] as const;
export type DecisionState = (typeof DECISION_STATES)[number];
export const RESPONSE_ACTIONS = ['decided', 'recorded', 'skipped', 'pushed', 'push-failed', 'undone'] as const;
export type ResponseAction = (typeof RESPONSE_ACTIONS)[number];
export const RESPONSE_MODES = ['dry-run', 'enforce'] as const;

const NullableString = Type.Unsafe<string | null>({ type: ['string', 'null'] });
const NullableInstant = Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'date-time' });

export const ResponseDecisionSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'stable: also the CrowdSec alert meta auditflow_decision_id' }),
    alert_id: Type.String({ format: 'uuid' }),
    output: Type.String(),
    mode: Type.Unsafe<(typeof RESPONSE_MODES)[number]>({ type: 'string', enum: [...RESPONSE_MODES] }),
    address: nullableAddress(),
    type: Type.String({ description: 'the CrowdSec decision type: ban' }),
    duration_seconds: Type.Integer({ minimum: 1 }),
    state: Type.Unsafe<DecisionState>({ type: 'string', enum: [...DECISION_STATES] }),
    reason: NullableString,
    decided_by: Type.String({ description: 'the rule and output that made it' }),
    lapi_alert_id: NullableString,
    lapi_decision_ids: Type.Unsafe<string[] | null>({ type: ['array', 'null'], items: { type: 'string' } }),
    last_error: NullableString,
    created_at: Type.String({ format: 'date-time' }),
    pushed_at: NullableInstant,
    expires_at: NullableInstant,
    undone_at: NullableInstant,
    undone_by: NullableString,
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'ResponseDecision' },
);
export type ResponseDecision = Static<typeof ResponseDecisionSchema>;

export const ResponseEventSchema = Type.Object(
  {
    decision_id: Type.String({ format: 'uuid' }),
    action: Type.Unsafe<ResponseAction>({ type: 'string', enum: [...RESPONSE_ACTIONS] }),
    actor: Type.String({ description: 'the person (undo) or the rule and output (the rest)' }),
    detail: NullableString,
    at: Type.String({ format: 'date-time' }),
  },
  { $id: 'ResponseEvent' },
);
export type ResponseEvent = Static<typeof ResponseEventSchema>;

export const AlertResponseSchema = Type.Object(
  {
    decisions: Type.Array(Type.Ref(ResponseDecisionSchema), { description: 'oldest first' }),
    events: Type.Array(Type.Ref(ResponseEventSchema), { description: 'the response history, oldest first' }),
  },
  { $id: 'AlertResponse' },
);
export type AlertResponse = Static<typeof AlertResponseSchema>;

export const DecisionParamsSchema = Type.Object({
  id: Type.String({ pattern: UUID_SYNTAX, 'x-problem': { code: AfInvalidAlertIdError.code } }),
  decision_id: Type.String({ pattern: UUID_SYNTAX, 'x-problem': { code: AfInvalidDecisionIdError.code } }),
});

export const UndoDecisionSchema = Type.Object(
  {
    actor: Type.Optional(
      Type.String({ minLength: 1, maxLength: MAX_ACTOR, pattern: '^[^\\u0000]*\\S[^\\u0000]*$', description: 'who undoes it; default the token name' }),
    ),
    note: Type.Optional(Type.String({ maxLength: MAX_NOTE, pattern: '^[^\\u0000]*$' })),
  },
  { additionalProperties: false },
);
export type UndoDecision = Static<typeof UndoDecisionSchema>;

function nullableAddress() {
  return Type.Unsafe<string | null>({ type: ['string', 'null'], description: 'the banned source address; null when the alert had none' });
}

/** `POST /response/operator-addresses`: where a dashboard user was seen. */
export const OperatorAddressSchema = Type.Object(
  {
    address: Type.String({ minLength: 2, maxLength: 64, description: 'the IP address of the person using the dashboard' }),
    seen_by: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ACTOR, pattern: '^[^\\u0000]*\\S[^\\u0000]*$', description: 'who; default the token name' })),
  },
  { additionalProperties: false },
);
export type OperatorAddress = Static<typeof OperatorAddressSchema>;
