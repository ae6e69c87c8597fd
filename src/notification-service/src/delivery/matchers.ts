import type { Matcher } from '@auditflow/common/contracts';
import type { Labels } from './alert-labels.ts';

export type { Matcher } from '@auditflow/common/contracts';

export interface CompiledMatcher {
  readonly matcher: Matcher;
  matches(labels: Labels): boolean;
}

/**
 * Compiles a matcher. Regexes are anchored (a whole-value match, as in Alertmanager), and a
 * missing label reads as the empty string, so `host!=web-1` matches alerts without a host.
 * Throws SyntaxError for an invalid regex.
 */
export function compileMatcher(matcher: Matcher): CompiledMatcher {
  const test = matcher.isRegex
    ? ((regex: RegExp) => (value: string) => regex.test(value))(new RegExp(`^(?:${matcher.value})$`, 'u'))
    : (value: string) => value === matcher.value;
  return {
    matcher,
    matches: (labels) => test(labels[matcher.name] ?? '') === matcher.isEqual,
  };
}

export function matchesAll(matchers: readonly CompiledMatcher[], labels: Labels): boolean {
  for (const matcher of matchers) if (!matcher.matches(labels)) return false;
  return true;
}
