import { type YamlLocator as Locator, YamlLocator } from '@auditflow/common';
import { yamlSyntaxProblems } from '@auditflow/common/platform';
import { LineCounter, parseAllDocuments } from 'yaml';
import { ConditionSyntaxError, compileCondition, parseCondition } from './condition-parser.ts';
import { parseTimespan } from './duration.ts';
import type { EventContext } from './event-context.ts';
import { compileFieldMatcher, type EventPredicate, MatcherError } from './field-matcher.ts';
import {
  type AlertTemplate,
  CORRELATION_TYPES,
  type CorrelationRule,
  type CorrelationType,
  type CountCondition,
  DEFAULT_FIRST_SEEN_MAX_VALUES,
  type DetectionRule,
  type FieldRef,
  type FirstSeenSettings,
  MAX_FIRST_SEEN_FIELDS,
  MAX_FIRST_SEEN_MAX_VALUES,
  LEVELS,
  type Level,
  type Rule,
  type RuleSet,
  SEVERITY_OF_LEVEL,
  type TemplatePart,
} from './rule-set.ts';
import { MAX_CHAIN_STAGES } from '../store/window-store.ts';
import { type RuleProblem, RulesError } from './rules-error.ts';
import { compileSigmaFieldMatcher, compileSigmaKeywords, type SigmaLogsource, sigmaLogsource } from './sigma.ts';

type Json = Record<string, unknown>;

const COMMON_KEYS = [
  'title', 'id', 'name', 'status', 'description', 'tags', 'level', 'alert', 'suppression', 'generate',
  'author', 'date', 'modified', 'references', 'falsepositives', 'logsource', 'fields', 'related', 'license', 'taxonomy',
];
const ALERT_KEYS = [
  'alert_name', 'alert_type', 'severity', 'description', 'rule_name', 'rule_description', 'action_observed',
  'impacted_resource', 'actor', 'tags', 'remediation_guidance', 'playbook_url',
];
const CORRELATION_KEYS = ['type', 'rules', 'group-by', 'timespan', 'condition', 'generate'];
/** Keys only a first_seen correlation takes (it has no timespan or condition). */
const FIRST_SEEN_KEYS = ['fields', 'learning_period', 'forget_after', 'max_values'];
/** Sigma correlation features AuditFlow refuses rather than ignores. */
const REFUSED_CORRELATION_KEYS: Record<string, string> = {
  aliases: "correlation aliases are not supported; give the correlated rules' fields the same name",
  timeframe: "'timeframe' is the old name; write 'timespan'",
};
const CONDITION_KEYS = ['gt', 'gte', 'lt', 'lte', 'eq', 'field'];
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const SPECIAL_PLACEHOLDERS = new Set([
  'resource', 'client_ip', 'count', 'window_count', 'timespan_seconds', 'threshold', 'rule_id', 'first_seen', 'last_seen', 'new_values', 'group',
]);

interface Draft {
  rule: Rule;
  locator: Locator;
  references: string[];
  explicitGenerate: boolean;
  /** The Sigma logsource of a detection written in Sigma's field names. */
  sigma?: SigmaLogsource | undefined;
}

/**
 * Parses and validates a multi-document Sigma-style rules file. Every problem
 * is collected with its line and column; any problem throws one RulesError.
 */
export function parseRules(text: string, fileName: string): RuleSet {
  return parseRuleFiles([{ text, fileName }], fileName);
}

/**
 * Parses several rules files as one rule set (a rules directory): rules of
 * one file may reference rules of another. Problems name their file.
 */
export function parseRuleFiles(files: readonly { text: string; fileName: string }[], setName: string): RuleSet {
  const problems: RuleProblem[] = [];
  const drafts: Draft[] = [];
  const perFile = files.map((file) => {
    const fileProblems: RuleProblem[] = [];
    parseFile(file.text, fileProblems, drafts);
    return { file: file.fileName, problems: fileProblems };
  });
  if (drafts.length === 0 && perFile.every((f) => f.problems.length === 0)) {
    perFile[0]?.problems.push({ line: 1, column: 1, path: '', message: files.length > 1 ? 'the directory contains no rules' : 'the file contains no rules' });
  }
  const ruleSet = link(drafts, setName);
  for (const { file, problems: found } of perFile) for (const problem of found) problems.push({ ...problem, file });
  if (problems.length > 0) throw new RulesError(files.length === 1 ? files[0]!.fileName : setName, problems);
  return ruleSet;
}

function parseFile(text: string, problems: RuleProblem[], drafts: Draft[]): void {
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });

  documents.forEach((document, index) => {
    const locator = new YamlLocator(document, lines, `[${index}]`, problems);
    if (document.errors.length > 0) {
      problems.push(...yamlSyntaxProblems(document, lines, `[${index}]`));
      return;
    }
    const value: unknown = document.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    if (!isObject(value)) {
      locator.report([], 'a rule must be a mapping');
      return;
    }
    const draft = parseRule(value, locator);
    if (draft) drafts.push(draft);
  });
}

function parseRule(value: Json, at: Locator): Draft | undefined {
  const before = at.problems.length;
  const isCorrelation = 'correlation' in value;
  const allowed = new Set([...COMMON_KEYS, isCorrelation ? 'correlation' : 'detection']);
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) {
      const hint = key === 'detection' || key === 'correlation' ? ' (a rule has either detection or correlation)' : '';
      at.report([key], `unknown key '${key}'${hint}`, { atKey: true });
    }
  }
  if (!isCorrelation && !('detection' in value)) at.report([], "a rule needs 'detection' or 'correlation'");

  const title = requiredString(value, 'title', at);
  const id = requiredString(value, 'id', at);
  if (id !== undefined && !ID_PATTERN.test(id)) at.report(['id'], `id '${id}' may only use letters, digits and _ . : -`);
  const name = optionalString(value, 'name', at);
  if (name !== undefined && !ID_PATTERN.test(name)) at.report(['name'], `name '${name}' may only use letters, digits and _ . : -`);
  const description = optionalString(value, 'description', at) ?? title ?? '';
  const status = optionalString(value, 'status', at);
  const tags = stringList(value, 'tags', at) ?? [];
  const level = parseLevel(value, at);
  const generate = optionalBoolean(value, 'generate', at);
  const { groupBy: suppressionGroupBy, cooldownMs } = parseSuppression(value, at, isCorrelation);
  const alert = parseAlert(value, at, { title: title ?? '', description, tags, level });
  const logsource = sigmaLogsource(value['logsource']);
  if (typeof logsource === 'string') at.report(['logsource'], logsource);
  const sigma = typeof logsource === 'string' ? undefined : logsource;
  if (isCorrelation && sigma) at.report(['logsource'], 'a correlation takes its logsource from the rules it references', { atKey: true });

  const common = {
    id: id ?? '',
    name,
    title: title ?? '',
    description,
    status,
    tags,
    level,
    alert,
    cooldownMs,
    alerts: true,
    line: at.documentLine(),
  };

  if (isCorrelation) {
    const parsed = parseCorrelation(value['correlation'], at);
    if (at.problems.length > before || !parsed) return undefined;
    const alertWithDefault = parsed.rule.firstSeen && !hasAlertDescription(value) ? { ...alert, description: firstSeenDescription(description, parsed.rule.groupBy.length > 0) } : alert;
    const rule: CorrelationRule = { ...common, alert: alertWithDefault, kind: 'correlation', ...parsed.rule, generate: parsed.generate || generate === true };
    return { rule, locator: at, references: parsed.references, explicitGenerate: false };
  }
  if (!('detection' in value)) return undefined;
  const detected = parseDetection(value['detection'], at, sigma);
  if (at.problems.length > before || !detected) return undefined;
  // A Sigma rule sees only the events of its logsource.
  const matches: EventPredicate = sigma ? (context) => sigma.scope(context) && detected(context) : detected;
  const rule: DetectionRule = {
    ...common,
    kind: 'detection',
    matches,
    suppressionGroupBy: suppressionGroupBy ?? [fieldRef('server_hostname'), fieldRef('user_id')],
    generate: generate === true,
    detection: value['detection'],
    ...(sigma ? { sigma } : {}),
  };
  return { rule, locator: at, references: [], explicitGenerate: generate === true, sigma };
}

function parseDetection(raw: unknown, at: Locator, sigma: SigmaLogsource | undefined): EventPredicate | undefined {
  if (!isObject(raw)) {
    at.report(['detection'], 'detection must be a mapping of named selections plus a condition');
    return undefined;
  }
  if ('timeframe' in raw) {
    at.report(['detection', 'timeframe'], "'timeframe' with an aggregation condition is not supported; write a correlation rule (type event_count, timespan)", { atKey: true });
    return undefined;
  }
  if (Array.isArray(raw['condition'])) {
    at.report(['detection', 'condition'], 'a list of conditions is not supported; join them with or');
    return undefined;
  }
  const selections = new Map<string, EventPredicate>();
  for (const [name, body] of Object.entries(raw)) {
    if (name === 'condition') continue;
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
      at.report(['detection', name], `selection name '${name}' must start with a letter or _`, { atKey: true });
      continue;
    }
    const compiled = compileSelection(body, ['detection', name], at, sigma);
    if (compiled) selections.set(name, compiled);
  }
  const condition = raw['condition'];
  if (typeof condition !== 'string') {
    at.report(['detection', 'condition'], 'detection needs a condition string, e.g. "selection and not filter"');
    return undefined;
  }
  if (selections.size === 0 && Object.keys(raw).length <= 1) {
    at.report(['detection'], 'detection has no selections');
    return undefined;
  }
  try {
    const names = Object.keys(raw).filter((key) => key !== 'condition');
    const tree = parseCondition(condition, names);
    if (selections.size !== names.length) return undefined;
    return compileCondition<EventContext>(tree, selections);
  } catch (error) {
    if (error instanceof ConditionSyntaxError) {
      at.reportInside(['detection', 'condition'], error.offset, error.message);
      return undefined;
    }
    throw error;
  }
}

/** A map is AND of its fields; a list of maps is OR of the maps; in a Sigma rule, a list of strings is keywords. */
function compileSelection(body: unknown, path: (string | number)[], at: Locator, sigma: SigmaLogsource | undefined): EventPredicate | undefined {
  if (sigma && (typeof body === 'string' || (Array.isArray(body) && body.length > 0 && body.every((item) => typeof item === 'string' || typeof item === 'number')))) {
    try {
      return compileSigmaKeywords(Array.isArray(body) ? body : [body], sigma);
    } catch (error) {
      if (!(error instanceof MatcherError)) throw error;
      at.report(path, error.message);
      return undefined;
    }
  }
  if (Array.isArray(body)) {
    if (body.length === 0) {
      at.report(path, 'a selection list must not be empty');
      return undefined;
    }
    const parts = body.map((item, index) => {
      if (!isObject(item)) {
        at.report([...path, index], 'each item of a selection list must be a mapping of fields');
        return undefined;
      }
      return compileFieldMap(item, [...path, index], at, sigma);
    });
    if (parts.some((part) => part === undefined)) return undefined;
    const predicates = parts as EventPredicate[];
    return predicates.length === 1 ? predicates[0] : (context) => predicates.some((p) => p(context));
  }
  if (!isObject(body)) {
    at.report(path, 'a selection must be a mapping of fields or a list of mappings');
    return undefined;
  }
  return compileFieldMap(body, path, at, sigma);
}

function compileFieldMap(map: Json, path: (string | number)[], at: Locator, sigma: SigmaLogsource | undefined): EventPredicate | undefined {
  const entries = Object.entries(map);
  if (entries.length === 0) {
    at.report(path, 'a selection mapping must name at least one field');
    return undefined;
  }
  const predicates: EventPredicate[] = [];
  let failed = false;
  for (const [key, value] of entries) {
    try {
      predicates.push(sigma ? compileSigmaFieldMatcher(key, value, sigma) : compileFieldMatcher(key, value));
    } catch (error) {
      if (!(error instanceof MatcherError)) throw error;
      at.report([...path, key], error.message, { atKey: true });
      failed = true;
    }
  }
  if (failed) return undefined;
  return predicates.length === 1 ? predicates[0] : (context) => predicates.every((p) => p(context));
}

interface ParsedCorrelation {
  rule: Pick<CorrelationRule, 'type' | 'sources' | 'groupBy' | 'timespanMs' | 'condition' | 'valueField' | 'firstSeen'>;
  references: string[];
  generate: boolean;
}

function parseCorrelation(raw: unknown, at: Locator): ParsedCorrelation | undefined {
  const base = ['correlation'];
  if (!isObject(raw)) {
    at.report(base, 'correlation must be a mapping with type, rules, timespan and (for counts) condition');
    return undefined;
  }
  for (const key of Object.keys(raw)) {
    if (Object.hasOwn(REFUSED_CORRELATION_KEYS, key)) at.report([...base, key], REFUSED_CORRELATION_KEYS[key]!, { atKey: true });
    else if (!CORRELATION_KEYS.includes(key) && !FIRST_SEEN_KEYS.includes(key)) at.report([...base, key], `unknown correlation key '${key}'`, { atKey: true });
  }
  const type = raw['type'];
  if (typeof type !== 'string' || !(CORRELATION_TYPES as readonly string[]).includes(type)) {
    at.report([...base, 'type'], `correlation type must be one of ${CORRELATION_TYPES.join(', ')}`);
    return undefined;
  }
  const references = stringList(raw, 'rules', at, base);
  if (!references || references.length === 0) at.report([...base, 'rules'], 'correlation needs a non-empty list of rules');
  const groupByNames = stringList(raw, 'group-by', at, base) ?? [];
  const groupBy = groupByNames.map(fieldRef);
  if (type === 'first_seen') return parseFirstSeen(raw, at, references, groupBy);
  for (const key of FIRST_SEEN_KEYS) {
    if (key in raw) at.report([...base, key], `only first_seen takes '${key}'`, { atKey: true });
  }
  const timespanRaw = raw['timespan'];
  const timespanMs = typeof timespanRaw === 'string' ? parseTimespan(timespanRaw) : undefined;
  if (timespanMs === undefined) at.report([...base, 'timespan'], 'timespan must be a number with s, m, h or d, e.g. 60s or 10m');
  if ((type === 'temporal' || type === 'temporal_ordered') && references && references.length < 2) {
    at.report([...base, 'rules'], `${type} needs at least two rules`);
  }
  if ((type === 'temporal' || type === 'temporal_ordered') && references && references.length > MAX_CHAIN_STAGES) {
    at.report([...base, 'rules'], `${type} takes at most ${MAX_CHAIN_STAGES} rules`);
  }

  let condition: CountCondition | undefined;
  let valueField: FieldRef | undefined;
  const conditionRaw = raw['condition'];
  if (type === 'event_count' || type === 'value_count') {
    if (!isObject(conditionRaw)) {
      at.report([...base, 'condition'], `${type} needs a condition such as {gte: 3}`);
    } else {
      condition = {};
      for (const [key, bound] of Object.entries(conditionRaw)) {
        if (!CONDITION_KEYS.includes(key)) {
          at.report([...base, 'condition', key], `unknown condition key '${key}' (gt, gte, lt, lte, eq, field)`, { atKey: true });
        } else if (key === 'field') {
          if (type !== 'value_count') at.report([...base, 'condition', key], "only value_count takes 'field'", { atKey: true });
          else if (typeof bound !== 'string' || bound === '') at.report([...base, 'condition', key], 'field must be a field name');
          else valueField = fieldRef(bound);
        } else if (typeof bound !== 'number' || !Number.isInteger(bound) || bound < 0) {
          at.report([...base, 'condition', key], `${key} must be a non-negative integer`);
        } else {
          condition[key as keyof CountCondition] = bound;
        }
      }
      const bounds = Object.keys(condition).length;
      if (bounds === 0) at.report([...base, 'condition'], 'condition needs at least one of gt, gte, lt, lte, eq');
      if (bounds > 2) at.report([...base, 'condition'], 'condition may combine at most two bounds (a range)');
      if (type === 'value_count' && !valueField) at.report([...base, 'condition'], "value_count needs condition.field, the field whose distinct values are counted");
    }
  } else if (conditionRaw !== undefined) {
    at.report([...base, 'condition'], `${type} takes no condition: it fires when every listed rule matched within the timespan`, { atKey: true });
  }
  const generate = raw['generate'];
  if (generate !== undefined && typeof generate !== 'boolean') at.report([...base, 'generate'], 'generate must be true or false');
  if (!references || timespanMs === undefined) return undefined;
  return {
    rule: { type: type as CorrelationType, sources: references, groupBy, timespanMs, condition, valueField },
    references,
    generate: generate === true,
  };
}

/**
 * A first_seen correlation: `fields` (1 to 3) whose value combination is
 * learned per group, a required `learning_period`, an optional
 * `forget_after` and a bounded `max_values`; no timespan and no condition.
 */
function parseFirstSeen(raw: Json, at: Locator, references: string[] | undefined, groupBy: FieldRef[]): ParsedCorrelation | undefined {
  const base = ['correlation'];
  for (const key of ['timespan', 'condition']) {
    if (key in raw) at.report([...base, key], `first_seen takes no ${key}: it fires the first time a value combination is seen after its learning_period`, { atKey: true });
  }
  const names = stringList(raw, 'fields', at, base);
  if (names === undefined || names.length === 0 || names.length > MAX_FIRST_SEEN_FIELDS) {
    if (names !== undefined || !('fields' in raw)) at.report(names === undefined ? base : [...base, 'fields'], `first_seen needs 'fields': 1 to ${MAX_FIRST_SEEN_FIELDS} fields whose combination of values is learned`);
  } else {
    const duplicate = names.find((name, index) => names.indexOf(name) !== index);
    if (duplicate !== undefined) at.report([...base, 'fields'], `field '${duplicate}' is listed twice`);
    const grouped = names.find((name) => groupBy.some((field) => field.name === name));
    if (grouped !== undefined) at.report([...base, 'fields'], `'${grouped}' is in both fields and group-by; a group already has one value of it`);
  }
  const learningMs = durationKey(raw, 'learning_period', at, true);
  const forgetAfterMs = durationKey(raw, 'forget_after', at, false);
  let maxValues = DEFAULT_FIRST_SEEN_MAX_VALUES;
  const maxRaw = raw['max_values'];
  if (maxRaw !== undefined) {
    if (typeof maxRaw !== 'number' || !Number.isInteger(maxRaw) || maxRaw < 1 || maxRaw > MAX_FIRST_SEEN_MAX_VALUES) {
      at.report([...base, 'max_values'], `max_values must be an integer from 1 to ${MAX_FIRST_SEEN_MAX_VALUES}`);
    } else maxValues = maxRaw;
  }
  const generate = raw['generate'];
  if (generate !== undefined && typeof generate !== 'boolean') at.report([...base, 'generate'], 'generate must be true or false');
  if (!references || !names || learningMs === undefined) return undefined;
  const firstSeen: FirstSeenSettings = { fields: names.map(fieldRef), learningMs, forgetAfterMs, maxValues };
  return {
    rule: { type: 'first_seen', sources: references, groupBy, timespanMs: 0, condition: undefined, valueField: undefined, firstSeen },
    references,
    generate: generate === true,
  };
}

/** A timespan key of a correlation (`7d`, `12h`); `0` is allowed for learning_period (no learning). */
function durationKey(raw: Json, key: string, at: Locator, required: boolean): number | undefined {
  const value = raw[key];
  if (value === undefined) {
    if (required) at.report(['correlation'], `first_seen needs '${key}', a timespan such as 7d`);
    return undefined;
  }
  if (key === 'learning_period' && (value === 0 || value === '0')) return 0;
  const ms = typeof value === 'string' ? parseTimespan(value) : undefined;
  if (ms === undefined) at.report(['correlation', key], `${key} must be a number with s, m, h or d, e.g. 7d`);
  return ms;
}

function hasAlertDescription(value: Json): boolean {
  const alert = value['alert'];
  return isObject(alert) && alert['description'] !== undefined;
}

/** The default alert text of a first_seen rule: what is new, and for which group. */
function firstSeenDescription(description: string, grouped: boolean): TemplatePart[] {
  const parts: TemplatePart[] = [{ text: `${description} New: ` }, { field: 'new_values', path: [] }];
  if (grouped) parts.push({ text: ' for ' }, { field: 'group', path: [] });
  parts.push({ text: '.' });
  return parts;
}

function parseSuppression(value: Json, at: Locator, isCorrelation: boolean): { groupBy?: FieldRef[]; cooldownMs?: number } {
  const raw = value['suppression'];
  if (raw === undefined) return {};
  if (!isObject(raw)) {
    at.report(['suppression'], 'suppression must be a mapping with group-by and/or cooldown');
    return {};
  }
  const result: { groupBy?: FieldRef[]; cooldownMs?: number } = {};
  for (const key of Object.keys(raw)) {
    if (key !== 'group-by' && key !== 'cooldown') at.report(['suppression', key], `unknown suppression key '${key}'`, { atKey: true });
  }
  if (raw['group-by'] !== undefined) {
    if (isCorrelation) at.report(['suppression', 'group-by'], 'a correlation suppresses per its own correlation.group-by', { atKey: true });
    const names = stringList(raw, 'group-by', at, ['suppression']);
    if (names) result.groupBy = names.map(fieldRef);
  }
  const cooldown = raw['cooldown'];
  if (cooldown !== undefined) {
    const ms = typeof cooldown === 'number' && cooldown >= 0 ? cooldown * 1000 : typeof cooldown === 'string' ? parseTimespan(cooldown) : undefined;
    if (ms === undefined) at.report(['suppression', 'cooldown'], 'cooldown must be seconds or a timespan such as 5m');
    else result.cooldownMs = ms;
  }
  return result;
}

function parseAlert(value: Json, at: Locator, defaults: { title: string; description: string; tags: readonly string[]; level: Level }): AlertTemplate {
  const raw = value['alert'] ?? {};
  const block: Json = isObject(raw) ? raw : {};
  if (!isObject(raw)) at.report(['alert'], 'alert must be a mapping');
  for (const key of Object.keys(block)) {
    if (!ALERT_KEYS.includes(key)) at.report(['alert', key], `unknown alert key '${key}'`, { atKey: true });
  }
  const path = ['alert'];
  const text = (key: string) => optionalString(block, key, at, path);
  const descriptionText = text('description') ?? defaults.description;
  const resource = block['impacted_resource'];
  let resourceType = 'SERVER';
  let resourceIdField: FieldRef | undefined;
  if (resource !== undefined) {
    if (!isObject(resource)) at.report([...path, 'impacted_resource'], 'impacted_resource must be a mapping with type and id_field');
    else {
      resourceType = optionalString(resource, 'type', at, [...path, 'impacted_resource']) ?? resourceType;
      const idField = optionalString(resource, 'id_field', at, [...path, 'impacted_resource']);
      if (idField !== undefined) resourceIdField = fieldRef(idField);
    }
  }
  const actor = block['actor'];
  let actorType = 'USER';
  let actorIdField = fieldRef('user_id');
  if (actor !== undefined) {
    if (!isObject(actor)) at.report([...path, 'actor'], 'actor must be a mapping with type and id_field');
    else {
      actorType = optionalString(actor, 'type', at, [...path, 'actor']) ?? actorType;
      const idField = optionalString(actor, 'id_field', at, [...path, 'actor']);
      if (idField !== undefined) actorIdField = fieldRef(idField);
    }
  }
  return {
    alertName: text('alert_name') ?? defaults.title,
    alertType: text('alert_type') ?? 'SECURITY',
    severity: text('severity') ?? SEVERITY_OF_LEVEL[defaults.level],
    ruleName: text('rule_name') ?? defaults.title,
    ruleDescription: text('rule_description') ?? defaults.description,
    description: parseTemplate(descriptionText, at, [...path, 'description']),
    actionObserved: text('action_observed') ?? null,
    resourceType,
    resourceIdField,
    actorType,
    actorIdField,
    tags: stringList(block, 'tags', at, path) ?? defaults.tags,
    remediationGuidance: text('remediation_guidance') ?? null,
    playbookUrl: text('playbook_url') ?? null,
  };
}

function parseTemplate(text: string, at: Locator, path: (string | number)[]): TemplatePart[] {
  const parts: TemplatePart[] = [];
  const pattern = /\{([^{}]*)\}/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const name = match[1] ?? '';
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name)) {
      at.reportInside(path, match.index, `invalid placeholder '{${name}}'`);
      continue;
    }
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    parts.push(SPECIAL_PLACEHOLDERS.has(name) ? { field: name, path: [] } : { field: name, path: name.split('.') });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

/** Resolves references, rejects duplicates and cycles, orders correlations and decides who alerts. */
function link(drafts: Draft[], fileName: string): RuleSet {
  const byKey = new Map<string, Draft>();
  const byId = new Map<string, Rule>();
  for (const draft of drafts) {
    const { rule, locator } = draft;
    if (byId.has(rule.id)) locator.report(['id'], `duplicate rule id '${rule.id}'`);
    byId.set(rule.id, rule);
    for (const key of new Set([rule.id, rule.name].filter((k): k is string => k !== undefined))) {
      const existing = byKey.get(key);
      if (existing && existing !== draft) locator.report([key === rule.id ? 'id' : 'name'], `'${key}' is already used by rule ${existing.rule.id}`);
      else byKey.set(key, draft);
    }
  }
  const resolved = new Map<CorrelationRule, CorrelationRule>();
  for (const draft of drafts) {
    if (draft.rule.kind !== 'correlation') continue;
    const sources: string[] = [];
    draft.references.forEach((reference, index) => {
      const target = byKey.get(reference);
      if (!target) draft.locator.report(['correlation', 'rules', index], `unknown rule '${reference}' (use a rule's name or id)`);
      else if (target === draft) draft.locator.report(['correlation', 'rules', index], 'a correlation cannot reference itself');
      else sources.push(target.rule.id);
    });
    resolved.set(draft.rule, { ...draft.rule, sources, ...sigmaFields(draft.rule, sources.map((id) => drafts.find((d) => d.rule.id === id)?.sigma)) });
  }
  const rules: Rule[] = drafts.map((draft) => (draft.rule.kind === 'correlation' ? resolved.get(draft.rule)! : draft.rule));

  // Referenced base rules stay silent unless they or a referencing correlation set generate (Sigma).
  const referencedBy = new Map<string, CorrelationRule[]>();
  for (const rule of rules) {
    if (rule.kind !== 'correlation') continue;
    for (const source of rule.sources) referencedBy.set(source, [...(referencedBy.get(source) ?? []), rule]);
  }
  const finalRules = rules.map((rule): Rule => {
    if (rule.kind !== 'detection') return rule;
    const referrers = referencedBy.get(rule.id);
    if (!referrers) return rule;
    return { ...rule, alerts: rule.generate || referrers.some((r) => r.generate) };
  });
  const finalMap = new Map(finalRules.map((rule) => [rule.id, rule] as const));

  const correlations = orderCorrelations(finalRules, drafts);
  return {
    fileName,
    rules: finalRules,
    detections: finalRules.filter((rule): rule is DetectionRule => rule.kind === 'detection'),
    correlations: correlations.map((rule) => finalMap.get(rule.id) as CorrelationRule),
    byId: finalMap,
  };
}

/** A correlation of Sigma rules names their Sigma fields in group-by and condition.field; they read the mapped AuditFlow fields. */
function sigmaFields(rule: CorrelationRule, sources: (SigmaLogsource | undefined)[]): Partial<CorrelationRule> {
  const sigma = sources.find((source) => source !== undefined);
  if (!sigma) return {};
  const map = (ref: FieldRef): FieldRef => {
    const path = sigma.resolve(ref.name);
    return path ? { name: ref.name, path } : ref;
  };
  return {
    groupBy: rule.groupBy.map(map),
    ...(rule.valueField ? { valueField: map(rule.valueField) } : {}),
    ...(rule.firstSeen ? { firstSeen: { ...rule.firstSeen, fields: rule.firstSeen.fields.map(map) } } : {}),
  };
}

function orderCorrelations(rules: Rule[], drafts: Draft[]): CorrelationRule[] {
  const correlations = new Map(rules.filter((r): r is CorrelationRule => r.kind === 'correlation').map((r) => [r.id, r] as const));
  const ordered: CorrelationRule[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (rule: CorrelationRule, trail: string[]): void => {
    const seen = state.get(rule.id);
    if (seen === 'done') return;
    if (seen === 'visiting') {
      const draft = drafts.find((d) => d.rule.id === rule.id);
      draft?.locator.report(['correlation', 'rules'], `correlation cycle: ${[...trail, rule.id].join(' -> ')}`);
      return;
    }
    state.set(rule.id, 'visiting');
    for (const source of rule.sources) {
      const upstream = correlations.get(source);
      if (upstream) visit(upstream, [...trail, rule.id]);
    }
    state.set(rule.id, 'done');
    ordered.push(rule);
  };
  for (const rule of correlations.values()) visit(rule, []);
  return ordered;
}

function fieldRef(name: string): FieldRef {
  return { name, path: name.split('.') };
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function requiredString(value: Json, key: string, at: Locator): string | undefined {
  const raw = value[key];
  if (typeof raw !== 'string' || raw.trim() === '') {
    at.report(raw === undefined ? [] : [key], raw === undefined ? `missing required key '${key}'` : `'${key}' must be a non-empty string`);
    return undefined;
  }
  return raw;
}

function optionalString(value: Json, key: string, at: Locator, base: (string | number)[] = []): string | undefined {
  const raw = value[key];
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') {
    at.report([...base, key], `'${key}' must be a string`);
    return undefined;
  }
  return raw;
}

function optionalBoolean(value: Json, key: string, at: Locator): boolean | undefined {
  const raw = value[key];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'boolean') {
    at.report([key], `'${key}' must be true or false`);
    return undefined;
  }
  return raw;
}

function stringList(value: Json, key: string, at: Locator, base: (string | number)[] = []): string[] | undefined {
  const raw = value[key];
  if (raw === undefined || raw === null) return undefined;
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item === '')) {
    at.report([...base, key], `'${key}' must be a list of strings`);
    return undefined;
  }
  return list as string[];
}

function parseLevel(value: Json, at: Locator): Level {
  const raw = value['level'];
  if (raw === undefined) return 'medium';
  if (typeof raw !== 'string' || !(LEVELS as readonly string[]).includes(raw)) {
    at.report(['level'], `level must be one of ${LEVELS.join(', ')}`);
    return 'medium';
  }
  return raw as Level;
}
