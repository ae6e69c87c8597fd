import { type Static, Type } from '@sinclair/typebox';
import type { Labels } from './alert-labels.ts';
import { LABEL_NAME_SYNTAX, MAX_LABEL_NAME } from './labels.ts';
import { MAX_ACTOR } from './notification-api.ts';

/**
 * Exceptions ("never alert on this"): a rule id plus exact values of alert labels. The analysis
 * drops every alert an active exception matches before it is published; the notification API
 * previews an exception over stored alerts with the same function, so a preview counts exactly
 * what the exception would have hidden (docs/analysis-rules.md, "Exceptions").
 */
export const EXCEPTION_ID_SYNTAX = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';
export const MAX_EXCEPTION_FIELDS = 16;
export const MAX_EXCEPTION_VALUE = 1000;
export const MAX_EXCEPTION_REASON = 2000;
export const MAX_RULE_ID = 255;
/** The preview looks back at most this far (stored alerts are kept RETENTION_DAYS anyway). */
export const MAX_PREVIEW_DAYS = 90;
export const DEFAULT_PREVIEW_DAYS = 7;
/**
 * The preview's bound: it reads at most this many stored alerts of the rule in the window, newest
 * first, and says `truncated` when there were more. One rule's alerts of 90 days stay far below
 * it on a homelab; the bound keeps a noisy rule from turning a preview into a table scan.
 */
export const PREVIEW_SCAN_LIMIT = 20_000;
/** Matched alerts listed by id in a preview (the count covers them all). */
export const PREVIEW_SAMPLE = 20;
/**
 * Labels an exception cannot name: the rule has its own key, and `alert_id` names one episode,
 * which would hide nothing on a replay and is no "alerts like this".
 */
export const EXCEPTION_RESERVED_FIELDS: readonly string[] = ['rule_id', 'alert_id'];

const Instant = Type.String({ format: 'date-time' });
const RuleId = Type.String({ minLength: 1, maxLength: MAX_RULE_ID });

/** Alert label name → the exact value it must have; every pair must hold. */
export const ExceptionFieldsSchema = Type.Unsafe<Record<string, string>>({
  type: 'object',
  minProperties: 1,
  maxProperties: MAX_EXCEPTION_FIELDS,
  propertyNames: { type: 'string', pattern: LABEL_NAME_SYNTAX, maxLength: MAX_LABEL_NAME },
  additionalProperties: { type: 'string', minLength: 1, maxLength: MAX_EXCEPTION_VALUE },
  description: `1 to ${MAX_EXCEPTION_FIELDS} alert labels (host, user, details.ip_address, ...) and the exact value each must have`,
});

/** One entry of the exceptions file, as the analysis loads it and the notification API writes it. */
export const ExceptionEntrySchema = Type.Object(
  {
    id: Type.String({ pattern: EXCEPTION_ID_SYNTAX, description: 'unique in the file; the `exception` label of analysis_alerts_excepted_total' }),
    rule_id: RuleId,
    fields: ExceptionFieldsSchema,
    author: Type.String({ minLength: 1, maxLength: MAX_ACTOR }),
    reason: Type.String({ minLength: 1, maxLength: MAX_EXCEPTION_REASON }),
    created_at: Type.Optional(Instant),
    expires_at: Type.Optional(Instant),
  },
  { additionalProperties: false },
);
export type ExceptionEntry = Static<typeof ExceptionEntrySchema>;

export const ExceptionsFileSchema = Type.Object(
  { exceptions: Type.Union([Type.Array(ExceptionEntrySchema), Type.Null()]) },
  { additionalProperties: false },
);

/** An exception as the notification API lists it. */
export const AlertExceptionSchema = Type.Object(
  {
    id: Type.String(),
    rule_id: Type.String(),
    fields: Type.Record(Type.String(), Type.String()),
    author: Type.String(),
    reason: Type.String(),
    created_at: Instant,
    expires_at: Type.Union([Instant, Type.Null()]),
    active: Type.Boolean({ description: 'false once expires_at has passed (kept, but hides nothing)' }),
  },
  { $id: 'AlertException' },
);
export type AlertException = Static<typeof AlertExceptionSchema>;

export const NewExceptionSchema = Type.Object(
  {
    rule_id: RuleId,
    fields: ExceptionFieldsSchema,
    reason: Type.String({ minLength: 1, maxLength: MAX_EXCEPTION_REASON }),
    expires_at: Type.Optional(Instant),
    author: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ACTOR })),
  },
  { additionalProperties: false },
);
export type NewException = Static<typeof NewExceptionSchema>;

export const ExceptionPreviewRequestSchema = Type.Object(
  {
    rule_id: RuleId,
    fields: ExceptionFieldsSchema,
    days: Type.Integer({ minimum: 1, maximum: MAX_PREVIEW_DAYS, default: DEFAULT_PREVIEW_DAYS }),
  },
  { additionalProperties: false },
);
export type ExceptionPreviewRequest = Static<typeof ExceptionPreviewRequestSchema>;

export const ExceptionPreviewSchema = Type.Object({
  matched: Type.Integer({ description: 'stored alerts of the window the exception would have hidden' }),
  scanned: Type.Integer({ description: 'stored alerts of the rule in the window that were compared' }),
  truncated: Type.Boolean({ description: `true when the rule had more than ${PREVIEW_SCAN_LIMIT} alerts in the window: only the newest were compared` }),
  alerts: Type.Array(
    Type.Object({ alert_id: Type.String(), alert_name: Type.String(), timestamp: Type.String() }),
    { description: `the newest ${PREVIEW_SAMPLE} matched alerts` },
  ),
  window: Type.Object({ from: Instant, to: Instant, days: Type.Integer() }),
});
export type ExceptionPreview = Static<typeof ExceptionPreviewSchema>;

/** What matching needs of an exception. */
export interface ExceptionMatcher {
  rule_id: string;
  fields: Readonly<Record<string, string>>;
}

/**
 * THE match: the alert's rule is the exception's and every named label has exactly the given
 * value (a missing label matches nothing). The analysis (suppression) and the notification API
 * (preview) both call this on alertLabels() of the alert, and nothing else decides.
 */
export function exceptionMatches(exception: ExceptionMatcher, labels: Labels): boolean {
  if (labels['rule_id'] !== exception.rule_id) return false;
  for (const name in exception.fields) if (labels[name] !== exception.fields[name]) return false;
  return true;
}

/** An exception hides alerts until its expiry (exclusive); an expired one is kept but inactive. */
export function isExceptionActive(exception: { expires_at?: string | null | undefined }, now: number): boolean {
  if (exception.expires_at === undefined || exception.expires_at === null) return true;
  return Date.parse(exception.expires_at) > now;
}

/** A problem with the field names that the schema cannot word well, or undefined. */
export function exceptionFieldsProblem(fields: Readonly<Record<string, string>>): string | undefined {
  const reserved = Object.keys(fields).filter((name) => EXCEPTION_RESERVED_FIELDS.includes(name));
  if (reserved.length === 0) return undefined;
  return `fields cannot name ${reserved.join(', ')}: rule_id is the exception's own key and alert_id names a single alert`;
}
