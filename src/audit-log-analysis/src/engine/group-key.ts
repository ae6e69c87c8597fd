import type { EventContext } from '../rules/event-context.ts';
import type { FieldRef } from '../rules/rule-set.ts';

export interface GroupKey {
  /** Field name to value, as carried by the alert. */
  values: Record<string, string>;
  /** Canonical text form, part of store scopes, fingerprints and alert ids. */
  text: string;
}

/** A missing field groups as the empty string, so events without it still share one group. */
export function fieldText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export function groupKeyOf(fields: readonly FieldRef[], context: EventContext): GroupKey {
  const values: Record<string, string> = {};
  const parts: string[] = [];
  for (const field of fields) {
    const value = fieldText(context.get(field.path));
    values[field.name] = value;
    parts.push(`${field.name}=${encodeURIComponent(value)}`);
  }
  return { values, text: parts.join(',') };
}

/** Builds the group key from explicit `name=value` pairs (GET /rules/:id/state?group=...). */
export function groupKeyFromPairs(fields: readonly FieldRef[], pairs: ReadonlyMap<string, string>): GroupKey {
  const values: Record<string, string> = {};
  const parts: string[] = [];
  for (const field of fields) {
    const value = pairs.get(field.name) ?? '';
    values[field.name] = value;
    parts.push(`${field.name}=${encodeURIComponent(value)}`);
  }
  return { values, text: parts.join(',') };
}

/** Store scope of one rule and group. */
export function scopeOf(ruleId: string, key: GroupKey): string {
  return `${ruleId}|${key.text}`;
}

/** Suffix of the scopes that hold events whose claimed time was out of bounds (`clock_skew`). */
export const SKEWED_SCOPE_SUFFIX = '|clock-skew';

/**
 * The store scope of an event for a rule. Events whose claimed time was
 * replaced (a wrong clock, or a forged line) get windows and episodes of their
 * own: a sender that lies about time can raise alerts, but never fold the
 * events of an honest sender into its episode nor hold back their windows.
 */
export function scopeOfEvent(ruleId: string, key: GroupKey, context: EventContext): string {
  const scope = scopeOf(ruleId, key);
  return context.event.clock_skew === undefined ? scope : `${scope}${SKEWED_SCOPE_SUFFIX}`;
}
