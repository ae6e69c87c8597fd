// Wire and API contracts: the audit event, the alert, the notification API (alerts, silences,
// deliveries), the label grammar and the per-field error shape. Import as @auditflow/common/contracts.
export { ALERT_SCHEMA_VERSION, alertSchema } from './alert.ts';
export type { Alert } from './alert.ts';
export { IP_SCOPES, enrichmentLabels, enrichmentSchema } from './enrichment.ts';
export type { Enrichment, HostEnrichment, IpEnrichment, IpScope } from './enrichment.ts';
export { MAX_EVENT_BYTES, auditEventSchema, eventClientIp, eventResource } from './audit-event.ts';
export type { AuditEvent } from './audit-event.ts';
export { DELIVERY_OUTPUT_TYPES, DELIVERY_STATUSES, DeliverySchema } from './deliveries.ts';
export type { Delivery, DeliveryStatus } from './deliveries.ts';
export { FieldErrorSchema, FieldErrors, fieldPointer } from './field-errors.ts';
export type { FieldError } from './field-errors.ts';
export { LABEL_NAME_RULE, LABEL_NAME_SYNTAX, LabelNameSchema, MAX_LABEL_NAME, isLabelName } from './labels.ts';
export { BodyDecodeError, decodeJsonObject } from './message-body.ts';
export type { BodyDecodeFailure } from './message-body.ts';
export { ALERT_STATUSES, AlertIdParamsSchema, AlertSchema, AlertStatsQuerySchema, AlertStatsSchema, AlertWithHistorySchema, DEFAULT_LIMIT, ISO_8601_SYNTAX, ListAlertsQuerySchema, MAX_ACTOR, MAX_LIMIT, MAX_NOTE, MAX_OFFSET, MAX_SEARCH_WORDS, NOTIFICATION_API_SHARED_SCHEMAS, ProblemSchema, STATS_BUCKETS, StatusChangeSchema, StatusHistoryEntrySchema } from './notification-api.ts';
export type { AlertRow, AlertStats, AlertStatsQuery, AlertStatus, AlertWithHistory, ListAlertsQuery, ProblemAnnotation, StatsBucket, StatusChange } from './notification-api.ts';
export { MAX_MATCHERS, MAX_MATCHER_VALUE, MAX_SILENCE_COMMENT, MAX_SILENCE_DAYS, MatcherSchema, NewSilenceSchema, SILENCE_STATES, SILENCE_STATUSES, SilenceSchema } from './silences.ts';
export type { Matcher, NewSilence, Silence, SilenceState, SilenceStatus } from './silences.ts';
export { assertAlert, assertAuditEvent, contractValidator, describeErrors, isAuditEvent, parseInstant } from './validate.ts';
export type { ContractValidator } from './validate.ts';
export { AlertResponseSchema, DECISION_STATES, DecisionParamsSchema, OperatorAddressSchema, RESPONSE_ACTIONS, RESPONSE_MODES, ResponseDecisionSchema, ResponseEventSchema, UndoDecisionSchema } from './response.ts';
export type { AlertResponse, DecisionState, OperatorAddress, ResponseAction, ResponseDecision, ResponseEvent, UndoDecision } from './response.ts';
export { alertLabels, wireAlertLabels } from './alert-labels.ts';
export type { Labels, LabelSource } from './alert-labels.ts';
export { AlertExceptionSchema, DEFAULT_PREVIEW_DAYS, EXCEPTION_ID_SYNTAX, EXCEPTION_RESERVED_FIELDS, ExceptionEntrySchema, ExceptionFieldsSchema, ExceptionPreviewRequestSchema, ExceptionPreviewSchema, ExceptionsFileSchema, MAX_EXCEPTION_FIELDS, MAX_EXCEPTION_REASON, MAX_EXCEPTION_VALUE, MAX_PREVIEW_DAYS, MAX_RULE_ID, NewExceptionSchema, PREVIEW_SAMPLE, PREVIEW_SCAN_LIMIT, exceptionFieldsProblem, exceptionMatches, isExceptionActive } from './exceptions.ts';
export type { AlertException, ExceptionEntry, ExceptionMatcher, ExceptionPreview, ExceptionPreviewRequest, NewException } from './exceptions.ts';
