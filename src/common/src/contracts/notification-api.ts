import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { UUID_SYNTAX } from '../ids.ts';

/**
 * The notification-service REST API as JSON Schema (TypeBox): the service's
 * route schemas validate requests with these, @fastify/swagger turns the same
 * routes into GET /openapi.json, and the dashboard's client takes its types
 * from them, so the contract is written down once.
 */

/** The alert lifecycle: every alert starts `open`; the API moves it between these. */
export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
export const MAX_OFFSET = 100_000;
export const MAX_NOTE = 2000;
export const MAX_ACTOR = 255;
export const MAX_SEARCH_WORDS = 8;
export const STATS_BUCKETS = ['minute', 'hour', 'day'] as const;
export type StatsBucket = (typeof STATS_BUCKETS)[number];

/**
 * `x-problem` (an OpenAPI extension, so the document shows it too) names the
 * stable code a parameter's validation failure answers with, and optionally
 * the message per failing JSON Schema keyword (the original's texts for limit/offset).
 */
export interface ProblemAnnotation {
  code: string;
  messages?: Partial<Record<'type' | 'minimum' | 'maximum' | 'pattern' | 'maxLength' | 'minLength' | 'enum', string>>;
}

const nullable = <T extends TSchema>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: [schema['type'] as string, 'null'] });
const NullableString = nullable(Type.String());
const NullableInstant = nullable(Type.String({ format: 'date-time' }));
const NullableObject = Type.Unsafe<Record<string, unknown> | null>({ type: ['object', 'null'] });
const Instant = Type.String({ format: 'date-time' });
/** An enum as `{ type: 'string', enum }`: simpler to read in the document than anyOf of consts. */
const StringEnum = <T extends readonly string[]>(values: T, options: Record<string, unknown> = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
const StatusSchema = StringEnum(ALERT_STATUSES);
const Uuid = Type.String({ pattern: UUID_SYNTAX, description: 'a UUID (any version, either case)' });

export const AlertSchema = Type.Object(
  {
    alert_id: Type.String({ format: 'uuid' }),
    correlation_id: Type.String({ format: 'uuid', description: 'event_id of the audit event that caused the alert' }),
    timestamp: Instant,
    received_at: NullableInstant,
    alert_name: Type.String(),
    alert_type: Type.String(),
    severity: Type.String(),
    description: NullableString,
    source_service_name: NullableString,
    rule_id: NullableString,
    rule_name: NullableString,
    actor_type: NullableString,
    actor_id: NullableString,
    client_ip: nullable(Type.String({ description: 'null when the producer sent no valid IP address' })),
    resource_type: NullableString,
    resource_id: NullableString,
    server_hostname: NullableString,
    action_observed: NullableString,
    analysis_rule_details: NullableObject,
    triggered_by_details: NullableObject,
    impacted_resource_details: NullableObject,
    metadata: NullableObject,
    raw_event_data: Type.Record(Type.String(), Type.Unknown()),
    status: StatusSchema,
    status_changed_at: NullableInstant,
    status_changed_by: NullableString,
    status_note: NullableString,
    count: Type.Integer({ minimum: 1, description: 'matching events folded into this alert' }),
    first_seen: Instant,
    last_seen: Instant,
    fingerprint: NullableString,
    group_key: Type.Unsafe<Record<string, string> | null>({ type: ['object', 'null'], additionalProperties: { type: 'string' } }),
    updated_at: Instant,
    origin: Type.Optional(
      nullable(
        Type.String({
          description: "where the triggering event came from: k8s_audit, syslog, journald, synthetic (the generator's demo stream); null when the producer did not say",
        }),
      ),
    ),
    origin_sender: Type.Optional(nullable(Type.String({ description: 'the peer address or host that sent the triggering record' }))),
    has_evidence: Type.Optional(Type.Boolean({ description: 'the producer attached the events that made the alert (GET /alerts/{id}/evidence)' })),
    silenced: Type.Optional(Type.Boolean({ description: 'an active silence matches the alert' })),
    silenced_by: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { description: 'ids of the matching silences' })),
  },
  { $id: 'Alert', description: 'One alert row: every key of the original service plus lifecycle and aggregation fields.' },
);
export type AlertRow = Static<typeof AlertSchema>;

export const StatusHistoryEntrySchema = Type.Object(
  {
    from_status: StatusSchema,
    to_status: StatusSchema,
    actor: Type.String(),
    note: NullableString,
    at: Instant,
  },
  { $id: 'StatusHistoryEntry' },
);

export const AlertWithHistorySchema = Type.Intersect(
  [Type.Ref(AlertSchema), Type.Object({ history: Type.Array(Type.Ref(StatusHistoryEntrySchema), { description: 'status changes, oldest first' }) })],
  { $id: 'AlertWithHistory' },
);
export type AlertWithHistory = Static<typeof AlertWithHistorySchema>;

export const StatusChangeSchema = Type.Object(
  {
    status: StatusSchema,
    note: Type.Optional(nullable(Type.String({ maxLength: MAX_NOTE, pattern: '^[^\\u0000]*$', description: 'null counts as absent' }))),
    actor: Type.Optional(
      nullable(
        Type.String({
          minLength: 1,
          maxLength: MAX_ACTOR,
          pattern: '^[^\\u0000]*\\S[^\\u0000]*$',
          description: 'who made the change; default "api"; null counts as absent',
        }),
      ),
    ),
  },
  { $id: 'StatusChange', additionalProperties: false },
);
export type StatusChange = Static<typeof StatusChangeSchema>;

const Counts = Type.Record(Type.String(), Type.Integer());
export const AlertStatsSchema = Type.Object(
  {
    total: Type.Integer(),
    by_severity: Counts,
    by_status: Counts,
    by_rule: Type.Array(Type.Object({ rule_id: NullableString, rule_name: NullableString, count: Type.Integer() })),
    timeline: Type.Array(Type.Object({ bucket: Instant, counts: Counts })),
  },
  { $id: 'AlertStats' },
);
export type AlertStats = Static<typeof AlertStatsSchema>;

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'stable machine-readable error code (AF_*)' }),
    detail: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', description: 'RFC 9457 problem details' },
);

/**
 * ISO-8601 date or date-time, zone optional (read as UTC when absent). The
 * shape is checked here; whether the date exists is checked where it is parsed.
 */
export const ISO_8601_SYNTAX =
  '^\\d{4}-\\d{2}-\\d{2}(?:[Tt ]\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d{1,9})?)?([Zz]|[+-]\\d{2}(?::?\\d{2})?)?)?$';
const QueryInstant = (description: string) => Type.String({ pattern: ISO_8601_SYNTAX, maxLength: 40, description });
const CommaList = (description: string, maxLength: number) => Type.String({ maxLength, description });

/** The filters GET /alerts and GET /alerts/stats share. */
const FilterProperties = {
  severity: CommaList('Comma-separated severities, e.g. CRITICAL,WARNING (exact match, at most 10).', 600),
  status: CommaList('Comma-separated statuses: open, acknowledged, resolved.', 100),
  rule_id: CommaList('Comma-separated rule ids (at most 20).', 5200),
  user: Type.String({ maxLength: 255, description: 'actor_id equals this.' }),
  host: Type.String({ maxLength: 255, description: 'server_hostname equals this.' }),
  origin: CommaList('Comma-separated origins: k8s_audit, syslog, journald, synthetic, or none (alerts whose producer named no origin).', 200),
  source_service: Type.String({ maxLength: 255, description: 'source_service_name equals this.' }),
  since: QueryInstant('timestamp >= this (ISO-8601 date or date-time; without a zone read as UTC).'),
  until: QueryInstant('timestamp < this (ISO-8601); must be after since.'),
  q: Type.String({
    maxLength: 200,
    description: `Words (at most ${MAX_SEARCH_WORDS}; letters and digits, punctuation separates them) that must all occur, as prefixes, in alert_name, description, origin, origin sender or the program that wrote the record; case-insensitive. A q without any letter or digit is refused.`,
  }),
};

export const ListAlertsQuerySchema = Type.Partial(
  Type.Object({
    limit: Type.Integer({
      minimum: 1,
      maximum: MAX_LIMIT,
      default: DEFAULT_LIMIT,
      description: `Rows per page, 1..${MAX_LIMIT}.`,
      'x-problem': {
        code: 'AF_INVALID_LIMIT',
        messages: {
          type: 'Limit must be an integer.',
          minimum: 'Limit must be a positive integer.',
          maximum: `Limit must be at most ${MAX_LIMIT}.`,
        },
      } satisfies ProblemAnnotation,
    }),
    offset: Type.Integer({
      minimum: 0,
      maximum: MAX_OFFSET,
      default: 0,
      description: `Rows to skip, 0..${MAX_OFFSET} (after the cursor position when both are given). Page deep with the cursor.`,
      'x-problem': {
        code: 'AF_INVALID_OFFSET',
        messages: {
          type: 'Offset must be an integer.',
          minimum: 'Offset cannot be negative.',
          maximum: `Offset must be at most ${MAX_OFFSET}; page further with the cursor.`,
        },
      } satisfies ProblemAnnotation,
    }),
    cursor: Type.String({
      maxLength: 200,
      pattern: '^[A-Za-z0-9_-]+$',
      description: 'Opaque position from a previous X-Next-Cursor header.',
      'x-problem': { code: 'AF_INVALID_CURSOR', messages: { pattern: 'cursor is not one this API issued', maxLength: 'cursor is not one this API issued' } } satisfies ProblemAnnotation,
    }),
    ...FilterProperties,
  }),
  { additionalProperties: false },
);
/** What a client may send (every parameter optional; limit/offset have defaults). */
export type ListAlertsQuery = Static<typeof ListAlertsQuerySchema>;

export const AlertStatsQuerySchema = Type.Partial(
  Type.Object({
    ...FilterProperties,
    bucket: StringEnum(STATS_BUCKETS, { default: 'hour', description: 'Timeline bucket width.' }),
  }),
  { additionalProperties: false },
);
export type AlertStatsQuery = Static<typeof AlertStatsQuerySchema>;

export const AlertIdParamsSchema = Type.Object({
  id: Type.String({
    ...Uuid,
    'x-problem': { code: 'AF_INVALID_ALERT_ID' } satisfies ProblemAnnotation,
  }),
});

export const EvidenceEventSchema = Type.Object(
  {
    event_id: Type.String(),
    timestamp: Type.String(),
    event_type: Type.Optional(Type.String()),
    user_id: Type.Optional(Type.String()),
    server_hostname: Type.Optional(Type.String()),
    action_result: Type.Optional(Type.String()),
    severity: Type.Optional(Type.String()),
    ip_address: Type.Optional(Type.String()),
    resource: Type.Optional(Type.String()),
    origin: Type.Optional(Type.String()),
  },
  { $id: 'EvidenceEvent', description: 'A summary of one event that made an alert.' },
);
export type EvidenceEventRow = Static<typeof EvidenceEventSchema>;

export const AlertEvidenceSchema = Type.Object(
  {
    alert_id: Type.String({ format: 'uuid' }),
    origin: NullableString,
    total: Type.Integer({ description: 'events folded into the alert' }),
    events: Type.Array(Type.Ref(EvidenceEventSchema), { description: 'the known events, oldest first: the earliest and the latest of the episode' }),
    earliest: Type.Integer({ description: 'how many of events are the earliest of the episode: the omitted ones fall after them' }),
    omitted: Type.Integer({ description: 'events of the episode between the earliest and the latest that are not kept (total minus the events shown)' }),
    complete: Type.Boolean({ description: 'the producer attached evidence; false when only the triggering event is known (e.g. the original analysis)' }),
  },
  { $id: 'AlertEvidence' },
);
export type AlertEvidence = Static<typeof AlertEvidenceSchema>;

export const ActivityQuerySchema = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'server_hostname equals this' })),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'actor_id equals this' })),
    address: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'client_ip equals this address' })),
    since: Type.Optional(QueryInstant('episodes still open at or after this; default 24 hours before until')),
    until: Type.Optional(QueryInstant('episodes that started before this; default now')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
  },
  { additionalProperties: false },
);
export type ActivityQuery = Static<typeof ActivityQuerySchema>;

export const ActivitySchema = Type.Object(
  {
    since: Instant,
    until: Instant,
    alerts: Type.Array(Type.Ref(AlertSchema)),
    events: Type.Array(Type.Ref(EvidenceEventSchema), { description: 'evidence events of those alerts that involve the host, user or address, oldest first, without repeats' }),
  },
  { $id: 'Activity' },
);
export type Activity = Static<typeof ActivitySchema>;

/** The schemas referenced by $id from route schemas; each server adds them once (app.addSchema). */
export const NOTIFICATION_API_SHARED_SCHEMAS = [
  AlertSchema,
  StatusHistoryEntrySchema,
  AlertWithHistorySchema,
  StatusChangeSchema,
  AlertStatsSchema,
  ProblemSchema,
  EvidenceEventSchema,
  AlertEvidenceSchema,
  ActivitySchema,
];
