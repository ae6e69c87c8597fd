import type { Alert } from '@auditflow/common';
import type { EventContext } from '../rules/event-context.ts';
import type { CorrelationRule, Rule, RuleSet } from '../rules/rule-set.ts';
import type { WindowResult, WindowStore } from '../store/window-store.ts';
import { type AlertInput, alertIdOf, buildAlert } from './alert-builder.ts';
import { type GroupKey, groupKeyOf, scopeOf } from './group-key.ts';

export interface EngineSettings {
  latenessMs: number;
  /** Cooldown of rules that name none (SUPPRESSION_COOLDOWN_SECONDS). */
  defaultCooldownMs: number;
  environment: string;
  /** Entries kept per window and members per episode. @default 10000 */
  maxEntries?: number;
  /** Event ids carried by an alert. @default 20 */
  sampleSize?: number;
}

/** Observers of what the engine decides, wired to metrics by the service. */
export interface EngineHooks {
  ruleMatched?(ruleId: string): void;
  lateEvent?(ruleId: string): void;
  suppressed?(ruleId: string): void;
}

/**
 * One alert version an event produced. The alert itself is built on first
 * read: most versions of a hot episode fold into a newer one before they are
 * published, and those are never built.
 */
export class AlertOutcome {
  readonly kind: 'new' | 'update';
  readonly rule: Rule;
  readonly alertId: string;
  readonly count: number;
  #input: AlertInput | undefined;
  #alert: Alert | undefined;

  constructor(kind: 'new' | 'update', input: AlertInput) {
    this.kind = kind;
    this.rule = input.rule;
    this.alertId = alertIdOf(input.rule.id, input.group, input.episode.anchor);
    this.count = Math.max(1, input.episode.count);
    this.#input = { ...input, alertId: this.alertId };
  }

  get alert(): Alert {
    if (this.#alert === undefined) {
      this.#alert = buildAlert(this.#input!);
      this.#input = undefined;
    }
    return this.#alert;
  }
}

interface Pending {
  rule: Rule;
  group: GroupKey;
  result: WindowResult | undefined;
}

/** Slack on key lifetimes, so keys outlive the last moment they can matter. */
const TTL_SLACK_MS = 60_000;

/**
 * Evaluates every rule against every event (no first-match dispatch): base
 * rules in memory, correlations through the window store in dependency order
 * (a correlation that fires feeds the correlations referencing it), then folds
 * each match into its alert episode.
 */
export class AnalysisEngine {
  readonly rules: RuleSet;
  readonly #store: WindowStore;
  readonly #settings: Required<EngineSettings>;
  readonly #hooks: EngineHooks;
  /** Correlations grouped by depth: each level only references earlier ones. */
  readonly #levels: CorrelationRule[][];

  constructor(options: { rules: RuleSet; store: WindowStore; settings: EngineSettings; hooks?: EngineHooks }) {
    this.rules = options.rules;
    this.#store = options.store;
    this.#settings = { maxEntries: 10_000, sampleSize: 20, ...options.settings };
    this.#hooks = options.hooks ?? {};
    this.#levels = levelsOf(options.rules);
  }

  cooldownMsOf(rule: Rule): number {
    return rule.cooldownMs ?? this.#settings.defaultCooldownMs;
  }

  /**
   * Returns the alerts to publish for one event. `redelivered` republishes an
   * episode the event was already folded into, in case its first publish was lost.
   */
  async process(context: EventContext, redelivered: boolean): Promise<AlertOutcome[]> {
    let matched: Set<string> | undefined;
    const pending: Pending[] = [];
    for (const rule of this.rules.detections) {
      if (!rule.matches(context)) continue;
      matched ??= new Set();
      matched.add(rule.id);
      this.#hooks.ruleMatched?.(rule.id);
      if (rule.alerts) pending.push({ rule, group: groupKeyOf(rule.suppressionGroupBy, context), result: undefined });
    }
    // Fast path: correlations only ever start from a base-rule match.
    if (matched === undefined) return [];
    const seen = matched;
    for (const level of this.#levels) {
      // Only correlations fed by this event touch the store.
      const fed = level.filter((rule) => rule.sources.some((source) => seen.has(source)));
      if (fed.length === 0) continue;
      const fired = await Promise.all(fed.map((rule) => this.#correlate(rule, context, seen)));
      fed.forEach((rule, index) => {
        const entry = fired[index];
        if (!entry) return;
        seen.add(rule.id);
        this.#hooks.ruleMatched?.(rule.id);
        pending.push(entry);
      });
    }
    if (pending.length === 0) return [];
    const outcomes = await Promise.all(pending.map((entry) => this.#fold(entry, context, redelivered)));
    return outcomes.filter((outcome): outcome is AlertOutcome => outcome !== undefined);
  }

  async #correlate(rule: CorrelationRule, context: EventContext, matched: ReadonlySet<string>): Promise<Pending | undefined> {
    const stages: number[] = [];
    rule.sources.forEach((source, index) => {
      if (matched.has(source)) stages.push(index);
    });
    if (stages.length === 0) return undefined;
    const group = groupKeyOf(rule.groupBy, context);
    const limits = {
      scope: scopeOf(rule.id, group),
      eventId: context.event.event_id,
      ts: context.ts,
      timespanMs: rule.timespanMs,
      latenessMs: this.#settings.latenessMs,
      maxEntries: this.#settings.maxEntries,
      ttlMs: rule.timespanMs + this.#settings.latenessMs + TTL_SLACK_MS,
    };
    let result: WindowResult;
    if (rule.type === 'event_count' || rule.type === 'value_count') {
      const value = rule.type === 'value_count' && rule.valueField ? groupValue(context.get(rule.valueField.path)) : undefined;
      // An event without the counted field has no value to count.
      if (rule.type === 'value_count' && value === undefined) return undefined;
      result = await this.#store.countWindow({ ...limits, condition: rule.condition ?? {}, ...(value === undefined ? {} : { value }) });
    } else {
      result = await this.#store.chainWindow({
        ...limits,
        stages,
        stageCount: rule.sources.length,
        ordered: rule.type === 'temporal_ordered',
      });
    }
    if (result.late) this.#hooks.lateEvent?.(rule.id);
    return result.fired ? { rule, group, result } : undefined;
  }

  async #fold(entry: Pending, context: EventContext, redelivered: boolean): Promise<AlertOutcome | undefined> {
    const { rule, group, result } = entry;
    const cooldownMs = this.cooldownMsOf(rule);
    const span = rule.kind === 'correlation' ? rule.timespanMs : 0;
    const episode = await this.#store.foldEpisode({
      scope: scopeOf(rule.id, group),
      eventId: context.event.event_id,
      ts: context.ts,
      cooldownMs,
      ttlMs: Math.max(cooldownMs, span) + this.#settings.latenessMs + 10 * TTL_SLACK_MS,
      maxMembers: this.#settings.maxEntries,
      sampleSize: this.#settings.sampleSize,
      ...(result?.rangeStart !== undefined && result.rangeEnd !== undefined
        ? { range: { start: result.rangeStart, end: result.rangeEnd }, monotone: isMonotone(rule) }
        : {}),
    });
    if (episode.status !== 'new') this.#hooks.suppressed?.(rule.id);
    if (episode.status === 'stale') return undefined;
    // Unchanged means another delivery already published this content, unless this is a redelivery after a lost publish.
    if (episode.status === 'unchanged' && !redelivered) return undefined;
    return new AlertOutcome(episode.status === 'new' ? 'new' : 'update', {
      rule,
      context,
      group,
      episode,
      windowCount: result?.count ?? 1,
      environment: this.#settings.environment,
    });
  }
}

/** Conditions with lower bounds only (and chains) never stop firing when events are added. */
function isMonotone(rule: Rule): boolean {
  if (rule.kind !== 'correlation') return true;
  const c = rule.condition;
  return c === undefined || (c.lt === undefined && c.lte === undefined && c.eq === undefined);
}

function groupValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function levelsOf(rules: RuleSet): CorrelationRule[][] {
  const depth = new Map<string, number>();
  const levels: CorrelationRule[][] = [];
  for (const rule of rules.correlations) {
    const level = Math.max(0, ...rule.sources.map((source) => (depth.has(source) ? depth.get(source)! + 1 : 0)));
    depth.set(rule.id, level);
    const bucket = levels[level] ?? [];
    bucket.push(rule);
    levels[level] = bucket;
  }
  return levels.filter((level) => level !== undefined);
}
