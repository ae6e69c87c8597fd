import { type Static, Type } from '@sinclair/typebox';
import { LabelNameSchema } from './labels.ts';
import { MAX_ACTOR } from './notification-api.ts';

/**
 * Silences on the wire (docs/api.md, "Silences"): the notification API
 * validates `POST /silences` with NewSilenceSchema and the dashboard's form
 * body is derived from it, so both refuse the same requests.
 */
export const MAX_MATCHERS = 32;
export const MAX_MATCHER_VALUE = 1000;
export const MAX_SILENCE_COMMENT = 2000;
/** Longest silence accepted: a forgotten one should not mute an alert for years. */
export const MAX_SILENCE_DAYS = 366;
export const SILENCE_STATUSES = ['pending', 'active', 'expired'] as const;
export type SilenceStatus = (typeof SILENCE_STATUSES)[number];
export const SILENCE_STATES = [...SILENCE_STATUSES, 'all'] as const;
export type SilenceState = (typeof SILENCE_STATES)[number];

const Instant = Type.String({ format: 'date-time' });

/** Alertmanager's matcher: `name=value`, `name!=value`, `name=~regex`, `name!~regex`. */
export const MatcherSchema = Type.Object(
  {
    name: LabelNameSchema,
    value: Type.String({ maxLength: MAX_MATCHER_VALUE }),
    isRegex: Type.Boolean(),
    isEqual: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type Matcher = Static<typeof MatcherSchema>;

export const SilenceSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    matchers: Type.Array(MatcherSchema),
    created_by: Type.String(),
    comment: Type.String(),
    starts_at: Instant,
    ends_at: Instant,
    updated_at: Instant,
    status: Type.Unsafe<SilenceStatus>({ type: 'string', enum: [...SILENCE_STATUSES] }),
  },
  { $id: 'Silence' },
);
export type Silence = Static<typeof SilenceSchema>;

export const NewSilenceSchema = Type.Object(
  {
    matchers: Type.Array(MatcherSchema, { minItems: 1, maxItems: MAX_MATCHERS }),
    comment: Type.String({ minLength: 1, maxLength: MAX_SILENCE_COMMENT }),
    ends_at: Instant,
    starts_at: Type.Optional(Instant),
    created_by: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ACTOR })),
  },
  { additionalProperties: false },
);
export type NewSilence = Static<typeof NewSilenceSchema>;
