import type { EventPredicate } from './field-matcher.ts';
import type { SigmaLogsource } from './sigma.ts';

export const LEVELS = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Level = (typeof LEVELS)[number];

/** Alert severity for each Sigma level, unless a rule's alert block names one. */
export const SEVERITY_OF_LEVEL: Record<Level, string> = {
  informational: 'INFO',
  low: 'LOW',
  medium: 'MEDIUM',
  high: 'HIGH',
  critical: 'CRITICAL',
};

export const CORRELATION_TYPES = ['event_count', 'value_count', 'temporal', 'temporal_ordered', 'first_seen'] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

/** Bounds of a count condition; two may form a range (e.g. gte and lt). */
export interface CountCondition {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  eq?: number;
}

export function meetsCondition(count: number, condition: CountCondition): boolean {
  if (condition.gt !== undefined && !(count > condition.gt)) return false;
  if (condition.gte !== undefined && !(count >= condition.gte)) return false;
  if (condition.lt !== undefined && !(count < condition.lt)) return false;
  if (condition.lte !== undefined && !(count <= condition.lte)) return false;
  if (condition.eq !== undefined && count !== condition.eq) return false;
  return true;
}

/** A field of the event, by name and compiled path. */
export interface FieldRef {
  name: string;
  path: readonly string[];
}

/** One piece of a `{field}` description template. */
export type TemplatePart = { text: string } | { field: string; path: readonly string[] };

/** The alert-contract extension of a rule (its `alert:` block with defaults applied). */
export interface AlertTemplate {
  alertName: string;
  alertType: string;
  severity: string;
  ruleName: string;
  ruleDescription: string;
  description: readonly TemplatePart[];
  actionObserved: string | null;
  /** SERVER (resource id = host), FILE (resource id = the event's file path) or any type with `id_field`. */
  resourceType: string;
  resourceIdField: FieldRef | undefined;
  actorType: string;
  actorIdField: FieldRef;
  tags: readonly string[];
  remediationGuidance: string | null;
  playbookUrl: string | null;
}

interface RuleBase {
  id: string;
  name: string | undefined;
  title: string;
  description: string;
  status: string | undefined;
  tags: readonly string[];
  level: Level;
  alert: AlertTemplate;
  cooldownMs: number | undefined;
  /** Whether matches of this rule become alerts (false for referenced base rules without generate). */
  alerts: boolean;
  /** 1-based line of the rule's document, for messages and GET /rules. */
  line: number;
}

export interface DetectionRule extends RuleBase {
  kind: 'detection';
  matches: EventPredicate;
  /** Fields whose values separate suppression episodes. */
  suppressionGroupBy: readonly FieldRef[];
  generate: boolean;
  detection: unknown;
  /** Written in Sigma's field names and value semantics for this logsource: the rule index reads it through the logsource's field mapping. */
  sigma?: SigmaLogsource;
}

export interface CorrelationRule extends RuleBase {
  kind: 'correlation';
  type: CorrelationType;
  /** Ids of the referenced rules, in the order listed (stage order for temporal_ordered). */
  sources: readonly string[];
  groupBy: readonly FieldRef[];
  timespanMs: number;
  condition: CountCondition | undefined;
  valueField: FieldRef | undefined;
  /** Whether referenced base rules still alert on their own. */
  generate: boolean;
  /** Settings of a first_seen correlation (its timespanMs is 0: it has no window). */
  firstSeen?: FirstSeenSettings;
}

/** Most fields whose value combination a first_seen rule learns. */
export const MAX_FIRST_SEEN_FIELDS = 3;
/** Values a first_seen rule keeps when it names no max_values. */
export const DEFAULT_FIRST_SEEN_MAX_VALUES = 10_000;
/** Upper bound of max_values, so one rule cannot take Redis' memory (about 100 bytes per value). */
export const MAX_FIRST_SEEN_MAX_VALUES = 1_000_000;

export interface FirstSeenSettings {
  /** The fields whose combination of values is learned per group, 1 to MAX_FIRST_SEEN_FIELDS. */
  fields: readonly FieldRef[];
  /** After the rule is first seen by the store, nothing is raised for this long. */
  learningMs: number;
  /** A combination not seen for this long is forgotten (and fires again when seen). */
  forgetAfterMs: number | undefined;
  /** Combinations kept per rule; the least recently seen go first. */
  maxValues: number;
}

export type Rule = DetectionRule | CorrelationRule;

export interface RuleSet {
  fileName: string;
  rules: readonly Rule[];
  detections: readonly DetectionRule[];
  /** Every correlation after the correlations it references. */
  correlations: readonly CorrelationRule[];
  byId: ReadonlyMap<string, Rule>;
}

/** The bound a description's `{threshold}` shows. */
export function thresholdOf(condition: CountCondition | undefined): number | undefined {
  if (!condition) return undefined;
  return condition.gte ?? condition.gt ?? condition.eq ?? condition.lte ?? condition.lt;
}
