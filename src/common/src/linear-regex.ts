import { RE2JS } from 're2js';

/**
 * A regular expression that people type (silence and route matchers) run on
 * RE2 semantics: matching time is linear in the input whatever the pattern,
 * so a pattern like `(a+)+$` against a host an attacker chose cannot stall
 * the event loop the way a backtracking engine does. RE2 has no
 * backreferences or lookaround; such patterns are refused at input.
 */
export interface LinearRegex {
  readonly source: string;
  /** Whether the whole value matches (Alertmanager's anchored matcher semantics). */
  matchesWhole(value: string): boolean;
  /** Whether any part of the value matches (an unanchored search). */
  test(value: string): boolean;
}

/** The longest pattern accepted; RE2's program size grows with it, not its run time. */
export const MAX_PATTERN_LENGTH = 1000;

export class InvalidPatternError extends Error {
  readonly pattern: string;
  constructor(pattern: string, reason: string) {
    super(reason);
    this.pattern = pattern;
    this.name = 'InvalidPatternError';
  }
}

/** Compiles `pattern` on RE2; throws InvalidPatternError with RE2's reason. */
export function compileLinearRegex(pattern: string): LinearRegex {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw new InvalidPatternError(pattern, `longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(pattern);
  } catch (error) {
    throw new InvalidPatternError(pattern, error instanceof Error ? error.message : String(error));
  }
  return {
    source: pattern,
    matchesWhole: (value) => compiled.testExact(value),
    test: (value) => compiled.test(value),
  };
}

/** Why `pattern` is refused, or undefined when it compiles (for validators that collect every problem). */
export function linearRegexProblem(pattern: string): string | undefined {
  try {
    compileLinearRegex(pattern);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
