import { BlockList, isIP } from 'node:net';
import type { EventContext } from './event-context.ts';

export const MODIFIERS = ['contains', 'startswith', 'endswith', 're', 'lt', 'lte', 'gt', 'gte', 'cidr', 'exists', 'all'] as const;
export type Modifier = (typeof MODIFIERS)[number];

/** A malformed field key or value; `message` is shown to the rule author. */
export class MatcherError extends Error {}

export type Scalar = string | number | boolean | null;
type ValueTest = (value: unknown) => boolean;
export type EventPredicate = (context: EventContext) => boolean;

/**
 * Compiles one `field|modifier...: value(s)` entry of a selection.
 * Matching is exact and case-sensitive: audit events carry Linux paths, user
 * names and unit names, where `/etc/Passwd` is a different file, so folding
 * case would only create false positives (the original's substring match).
 */
export function compileFieldMatcher(key: string, raw: unknown): EventPredicate {
  const [field, ...modifierNames] = key.split('|');
  if (field === undefined || field === '' || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(field)) {
    throw new MatcherError(`invalid field name '${field ?? ''}'`);
  }
  const modifiers = new Set<Modifier>();
  for (const name of modifierNames) {
    if (!(MODIFIERS as readonly string[]).includes(name)) {
      throw new MatcherError(`unknown modifier '${name}' (known: ${MODIFIERS.join(', ')})`);
    }
    modifiers.add(name as Modifier);
  }
  const path = field.split('.');

  if (modifiers.has('exists')) {
    if (modifiers.size > 1) throw new MatcherError("'exists' cannot be combined with other modifiers");
    if (typeof raw !== 'boolean') throw new MatcherError("'exists' needs true or false");
    return (context) => {
      const value = context.get(path);
      return (value !== undefined && value !== null) === raw;
    };
  }

  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) throw new MatcherError(`field '${field}' has an empty value list`);
  for (const value of values) {
    if (value !== null && typeof value === 'object') {
      throw new MatcherError(`values of '${field}' must be scalars`);
    }
  }
  const tests = (values as Scalar[]).map((value) => compileValueTest(value, modifiers, field));
  const all = modifiers.has('all');
  const combined: ValueTest =
    tests.length === 1 ? tests[0]! : all ? (v) => tests.every((t) => t(v)) : (v) => tests.some((t) => t(v));

  return (context) => {
    const value = context.get(path);
    // An event field holding a list matches when any of its elements matches.
    if (Array.isArray(value)) return value.some((item) => combined(item));
    return combined(value);
  };
}

function compileValueTest(expected: Scalar, modifiers: ReadonlySet<Modifier>, field: string): ValueTest {
  const stringOps = (['contains', 'startswith', 'endswith', 're'] as const).filter((m) => modifiers.has(m));
  const numberOps = (['lt', 'lte', 'gt', 'gte'] as const).filter((m) => modifiers.has(m));
  const cidr = modifiers.has('cidr');
  if (stringOps.length + numberOps.length + (cidr ? 1 : 0) > 1) {
    throw new MatcherError(`field '${field}' combines modifiers that exclude each other`);
  }
  const op = stringOps[0] ?? numberOps[0] ?? (cidr ? 'cidr' : undefined);
  switch (op) {
    case undefined:
      return equalityTest(expected);
    case 'contains':
    case 'startswith':
    case 'endswith': {
      if (typeof expected !== 'string') throw new MatcherError(`'${op}' of '${field}' needs string values`);
      if (op === 'contains') return (v) => typeof v === 'string' && v.includes(expected);
      if (op === 'startswith') return (v) => typeof v === 'string' && v.startsWith(expected);
      return (v) => typeof v === 'string' && v.endsWith(expected);
    }
    case 're': {
      if (typeof expected !== 'string') throw new MatcherError(`'re' of '${field}' needs string values`);
      let pattern: RegExp;
      try {
        pattern = new RegExp(expected);
      } catch (error) {
        throw new MatcherError(`invalid regular expression for '${field}': ${(error as Error).message}`);
      }
      return (v) => typeof v === 'string' && pattern.test(v);
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      const bound = typeof expected === 'number' ? expected : Number.NaN;
      if (!Number.isFinite(bound)) throw new MatcherError(`'${op}' of '${field}' needs numeric values`);
      const compare = { lt: (n: number) => n < bound, lte: (n: number) => n <= bound, gt: (n: number) => n > bound, gte: (n: number) => n >= bound }[op];
      return (v) => {
        const n = toNumber(v);
        return n !== undefined && compare(n);
      };
    }
    case 'cidr':
      return cidrTest(expected, field);
  }
}

function equalityTest(expected: Scalar): ValueTest {
  if (expected === null) return (v) => v === null || v === undefined;
  if (typeof expected === 'string') return (v) => v === expected;
  if (typeof expected === 'number') return (v) => v === expected || (typeof v === 'string' && v !== '' && Number(v) === expected);
  return (v) => v === expected || v === String(expected);
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function cidrTest(expected: Scalar, field: string): ValueTest {
  if (typeof expected !== 'string') throw new MatcherError(`'cidr' of '${field}' needs a network such as 10.0.0.0/8`);
  const [address, prefixText] = expected.split('/');
  const family = isIP(address ?? '');
  const prefix = Number(prefixText);
  if (family === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
    throw new MatcherError(`'${expected}' is not a valid CIDR network`);
  }
  const list = new BlockList();
  list.addSubnet(address!, prefix, family === 4 ? 'ipv4' : 'ipv6');
  return (v) => {
    if (typeof v !== 'string') return false;
    const kind = isIP(v);
    if (kind === 0) return false;
    return list.check(v, kind === 4 ? 'ipv4' : 'ipv6');
  };
}
