import { compileLinearRegex } from '@auditflow/common';
import type { Labels } from './alert-labels.ts';

/** Alertmanager's matcher: `name=value`, `name!=value`, `name=~regex`, `name!~regex`. */
export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export interface CompiledMatcher {
  readonly matcher: Matcher;
  matches(labels: Labels): boolean;
}

/**
 * Compiles a matcher. Regexes are anchored (a whole-value match, as in Alertmanager) and run
 * on RE2 (linear time: label values come from events anyone can send), and a missing label
 * reads as the empty string, so `host!=web-1` matches alerts without a host.
 * Throws InvalidPatternError for a regex RE2 refuses.
 */
export function compileMatcher(matcher: Matcher): CompiledMatcher {
  const test = matcher.isRegex ? compileLinearRegex(matcher.value).matchesWhole : (value: string) => value === matcher.value;
  return {
    matcher,
    matches: (labels) => test(labels[matcher.name] ?? '') === matcher.isEqual,
  };
}

export function matchesAll(matchers: readonly CompiledMatcher[], labels: Labels): boolean {
  for (const matcher of matchers) if (!matcher.matches(labels)) return false;
  return true;
}
