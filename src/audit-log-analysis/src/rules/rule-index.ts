import { type ConditionNode, parseCondition } from './condition-parser.ts';
import type { EventContext } from './event-context.ts';
import type { DetectionRule } from './rule-set.ts';
import type { SigmaLogsource } from './sigma.ts';

/**
 * What a detection needs of an event to have any chance of matching:
 * fields that must equal one of a few string literals, and fields that must
 * be present. Derived from the selections and the condition, conservatively:
 * anything the analysis cannot prove necessary (a `not`, a modifier, a
 * non-string literal) simply adds no requirement.
 */
interface Requirement {
  /** field path (dotted) → the literals one of which the field must equal */
  literals: Map<string, Set<string>>;
  /** fields that must be present (not null or missing) */
  present: Set<string>;
}

const NONE = (): Requirement => ({ literals: new Map(), present: new Set() });

/** How a detection's field names and values read: the field's dotted AuditFlow path, and whether a string value is an exact-string test. */
interface FieldReading {
  path(field: string): string | undefined;
  exactStrings: boolean;
}

/** AuditFlow's own rules name AuditFlow paths and compare strings exactly. */
const AUDITFLOW_FIELDS: FieldReading = { path: (field) => field, exactStrings: true };

/**
 * A Sigma rule names Sigma fields (mapped by its logsource) and compares strings
 * case-insensitively with wildcards, so only the presence of a field is required.
 */
function sigmaFields(logsource: SigmaLogsource): FieldReading {
  return { path: (field) => logsource.resolve(field)?.join('.'), exactStrings: false };
}

/** A mapping of fields is an AND of its fields. */
function requirementOfMap(map: Record<string, unknown>, reading: FieldReading): Requirement {
  const requirement = NONE();
  for (const [key, raw] of Object.entries(map)) {
    const [name, ...modifiers] = key.split('|');
    const field = name === undefined ? undefined : reading.path(name);
    if (field === undefined) continue;
    if (modifiers.length === 1 && modifiers[0] === 'exists') {
      if (raw === true) requirement.present.add(field);
      continue;
    }
    const values = Array.isArray(raw) ? raw : [raw];
    if (values.length === 0) continue;
    // Any string test but an equality with null needs the field to be there.
    if (values.every((value) => value !== null) && modifiers.every((m) => m !== 'exists')) requirement.present.add(field);
    // Only exact string equality is indexable: numbers and booleans also match their string forms.
    if (reading.exactStrings && modifiers.length === 0 && values.every((value) => typeof value === 'string')) {
      requirement.literals.set(field, new Set(values as string[]));
    }
  }
  return requirement;
}

function requirementOfSelection(body: unknown, reading: FieldReading): Requirement {
  if (Array.isArray(body)) return anyOf(body.map((item) => (isObject(item) ? requirementOfMap(item, reading) : NONE())));
  return isObject(body) ? requirementOfMap(body, reading) : NONE();
}

/** Both must hold: every requirement of either, the literal sets of a shared field intersected. */
function allOf(parts: readonly Requirement[]): Requirement {
  const result = NONE();
  for (const part of parts) {
    for (const field of part.present) result.present.add(field);
    for (const [field, values] of part.literals) {
      const known = result.literals.get(field);
      result.literals.set(field, known === undefined ? new Set(values) : new Set([...known].filter((v) => values.has(v))));
    }
  }
  return result;
}

/** One of them holds: only what every alternative requires, the literal sets of a field united. */
function anyOf(parts: readonly Requirement[]): Requirement {
  const [first, ...rest] = parts;
  if (first === undefined) return NONE();
  const result: Requirement = { literals: new Map(first.literals), present: new Set(first.present) };
  for (const part of rest) {
    for (const field of result.present) if (!part.present.has(field)) result.present.delete(field);
    for (const [field, values] of result.literals) {
      const other = part.literals.get(field);
      if (other === undefined) result.literals.delete(field);
      else result.literals.set(field, new Set([...values, ...other]));
    }
  }
  return result;
}

function requirementOfNode(node: ConditionNode, selections: ReadonlyMap<string, Requirement>): Requirement {
  switch (node.kind) {
    case 'ref':
      return selections.get(node.name) ?? NONE();
    case 'not':
      return NONE();
    case 'and':
      return allOf(node.operands.map((child) => requirementOfNode(child, selections)));
    case 'or':
      return anyOf(node.operands.map((child) => requirementOfNode(child, selections)));
  }
}

/** The requirement of a parsed detection block (the rules file has validated it already). */
export function requirementOf(detection: unknown, reading: FieldReading = AUDITFLOW_FIELDS): Requirement {
  if (!isObject(detection) || typeof detection['condition'] !== 'string') return NONE();
  const names = Object.keys(detection).filter((key) => key !== 'condition');
  const selections = new Map(names.map((name) => [name, requirementOfSelection(detection[name], reading)]));
  try {
    return requirementOfNode(parseCondition(detection['condition'], names), selections);
  } catch {
    return NONE();
  }
}

/**
 * The requirement of a detection rule. A Sigma rule's fields are read through
 * its logsource's mapping, and the logsource's own scope (the exact source kind
 * and program its events carry) is required as well.
 */
export function requirementOfRule(rule: DetectionRule): Requirement {
  if (rule.sigma === undefined) return requirementOf(rule.detection);
  const scope: Requirement = { literals: new Map([...rule.sigma.requires].map(([path, values]) => [path, new Set(values)])), present: new Set() };
  return allOf([requirementOf(rule.detection, sigmaFields(rule.sigma)), scope]);
}

/**
 * Detections indexed by what an event must carry for them to match (as
 * Sigma and Falco back ends do): each rule sits under one literal of one
 * field it requires (the field most rules share, so an event costs one
 * lookup per indexed field), else under a field it requires present, else
 * in the list every event is checked against. candidates() returns the
 * rules an event can match, in file order, which is a superset of the rules
 * it does match: the full predicates still decide.
 */
export class DetectionIndex {
  readonly #order: Map<DetectionRule, number>;
  readonly #byLiteral = new Map<string, { path: readonly string[]; rules: Map<string, DetectionRule[]> }>();
  readonly #byPresence = new Map<string, { path: readonly string[]; rules: DetectionRule[] }>();
  readonly #always: DetectionRule[] = [];
  /** Distinct rules of the index, for stats. */
  readonly size: number;

  constructor(detections: readonly DetectionRule[], enabled = true) {
    this.#order = new Map(detections.map((rule, index) => [rule, index]));
    this.size = detections.length;
    const requirements = detections.map((rule) => (enabled ? requirementOfRule(rule) : NONE()));
    const share = new Map<string, number>();
    for (const requirement of requirements) {
      for (const [field, values] of requirement.literals) if (values.size > 0) share.set(field, (share.get(field) ?? 0) + 1);
    }
    detections.forEach((rule, index) => {
      const requirement = requirements[index]!;
      const literalFields = [...requirement.literals].filter(([, values]) => values.size > 0);
      // An empty literal set (a contradiction) can never match; keep it checkable anyway rather than drop it.
      if (literalFields.length > 0) {
        const [field, values] = literalFields.reduce((best, next) => ((share.get(next[0]) ?? 0) > (share.get(best[0]) ?? 0) ? next : best));
        let entry = this.#byLiteral.get(field);
        if (entry === undefined) {
          entry = { path: field.split('.'), rules: new Map() };
          this.#byLiteral.set(field, entry);
        }
        for (const value of values) entry.rules.set(value, [...(entry.rules.get(value) ?? []), rule]);
        return;
      }
      const present = [...requirement.present][0];
      if (present !== undefined) {
        const entry = this.#byPresence.get(present) ?? { path: present.split('.'), rules: [] };
        entry.rules.push(rule);
        this.#byPresence.set(present, entry);
        return;
      }
      this.#always.push(rule);
    });
  }

  /** How rules are indexed, for the start-up log and the bench. */
  stats(): { literalFields: string[]; presenceFields: string[]; unindexed: number } {
    return { literalFields: [...this.#byLiteral.keys()], presenceFields: [...this.#byPresence.keys()], unindexed: this.#always.length };
  }

  candidates(context: EventContext): readonly DetectionRule[] {
    let found: DetectionRule[] | undefined;
    const add = (rules: readonly DetectionRule[] | undefined): void => {
      if (rules === undefined || rules.length === 0) return;
      found ??= [];
      for (const rule of rules) found.push(rule);
    };
    for (const entry of this.#byLiteral.values()) {
      const value = context.get(entry.path);
      if (typeof value === 'string') add(entry.rules.get(value));
      else if (Array.isArray(value)) {
        // A list field matches when any element does; each rule once.
        const hits = new Set<DetectionRule>();
        for (const item of value) if (typeof item === 'string') for (const rule of entry.rules.get(item) ?? []) hits.add(rule);
        add([...hits]);
      }
    }
    for (const entry of this.#byPresence.values()) {
      const value = context.get(entry.path);
      if (value !== undefined && value !== null) add(entry.rules);
    }
    add(this.#always);
    if (found === undefined) return [];
    if (found.length > 1) found.sort((a, b) => this.#order.get(a)! - this.#order.get(b)!);
    return found;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
