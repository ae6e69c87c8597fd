import type { Alert, AuditEvent } from '@auditflow/common';
import type { EventContext } from '../rules/event-context.ts';
import type { CorrelationRule, Rule, RuleSet } from '../rules/rule-set.ts';
import type { EpisodeResult, ScopeBatchEvent, ScopeBatchInput, ScopeStep, WindowResult, WindowStore } from '../store/window-store.ts';
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
  /** A base rule matched the event: it may become an alert's evidence. */
  eventMatched?(event: AuditEvent): void;
  /** The event was folded into the alert (every version, including those folded away before publishing). */
  alertFolded?(alertId: string, event: AuditEvent): void;
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

/** One event of a batch: its context and whether it may have been folded before (a redelivery or retry). */
export interface BatchEvent {
  context: EventContext;
  redelivered: boolean;
}

/** The events of a batch that share one scope of one rule, in batch order. */
interface ScopeBucket {
  rule: Rule;
  group: GroupKey;
  input: ScopeBatchInput & { events: ScopeBatchEvent[] };
  indexes: number[];
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
    this.#hooks.eventMatched?.(context.event);
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

  /**
   * The batch form of process(), with the same answers: base rules are
   * evaluated in memory for every event, then each (rule, group key) scope gets
   * one store call per batch that runs its events in batch order (correlations
   * level by level, since a level sees what the earlier ones fired for each
   * event). Returns the outcomes of each event, in batch order.
   */
  async processBatch(events: readonly BatchEvent[]): Promise<AlertOutcome[][]> {
    const outcomes: AlertOutcome[][] = events.map(() => []);
    const seen: (Set<string> | undefined)[] = [];
    const folds = new Map<string, ScopeBucket>();
    events.forEach(({ context }, index) => {
      let matched: Set<string> | undefined;
      for (const rule of this.rules.detections) {
        if (!rule.matches(context)) continue;
        matched ??= new Set();
        matched.add(rule.id);
        this.#hooks.ruleMatched?.(rule.id);
        if (!rule.alerts) continue;
        const group = groupKeyOf(rule.suppressionGroupBy, context);
        const bucket = this.#bucket(folds, rule, group, () => ({ kind: 'fold', fold: this.#foldLimits(rule) }));
        bucket.input.events.push({ eventId: context.event.event_id, ts: context.ts });
        bucket.indexes.push(index);
      }
      if (matched !== undefined) this.#hooks.eventMatched?.(context.event);
      seen.push(matched);
    });
    // Detection episodes never feed a correlation: their store calls go out with the first level's.
    const detectionRun = this.#runBuckets(folds, events, outcomes, undefined);
    for (const level of this.#levels) {
      const buckets = new Map<string, ScopeBucket>();
      for (const rule of level) {
        events.forEach(({ context }, index) => {
          const matched = seen[index];
          if (matched === undefined) return;
          const event = this.#scopeEvent(rule, context, matched);
          if (event === undefined) return;
          const bucket = this.#bucket(buckets, rule, groupKeyOf(rule.groupBy, context), () => ({
            kind: rule.type === 'event_count' || rule.type === 'value_count' ? 'count' : 'chain',
            window: {
              timespanMs: rule.timespanMs,
              latenessMs: this.#settings.latenessMs,
              maxEntries: this.#settings.maxEntries,
              ttlMs: rule.timespanMs + this.#settings.latenessMs + TTL_SLACK_MS,
              condition: rule.condition ?? {},
              stageCount: rule.sources.length,
              ordered: rule.type === 'temporal_ordered',
            },
            fold: this.#foldLimits(rule),
          }));
          bucket.input.events.push(event);
          bucket.indexes.push(index);
        });
      }
      await this.#runBuckets(buckets, events, outcomes, (rule, index) => {
        seen[index]!.add(rule.id);
        this.#hooks.ruleMatched?.(rule.id);
      });
    }
    await detectionRun;
    return outcomes;
  }

  #bucket(
    buckets: Map<string, ScopeBucket>,
    rule: Rule,
    group: GroupKey,
    limits: () => Omit<ScopeBatchInput, 'scope' | 'events'>,
  ): ScopeBucket {
    const scope = scopeOf(rule.id, group);
    let bucket = buckets.get(scope);
    if (bucket === undefined) {
      bucket = { rule, group, input: { scope, ...limits(), events: [] }, indexes: [] };
      buckets.set(scope, bucket);
    }
    return bucket;
  }

  /** What the store needs of an event for a correlation, or undefined when the event does not feed it. */
  #scopeEvent(rule: CorrelationRule, context: EventContext, matched: ReadonlySet<string>): ScopeBatchEvent | undefined {
    const stages: number[] = [];
    rule.sources.forEach((source, index) => {
      if (matched.has(source)) stages.push(index);
    });
    if (stages.length === 0) return undefined;
    const base = { eventId: context.event.event_id, ts: context.ts };
    if (rule.type === 'value_count') {
      const value = rule.valueField ? groupValue(context.get(rule.valueField.path)) : undefined;
      // An event without the counted field has no value to count.
      return value === undefined ? undefined : { ...base, value };
    }
    return rule.type === 'event_count' ? base : { ...base, stages };
  }

  async #runBuckets(
    buckets: ReadonlyMap<string, ScopeBucket>,
    events: readonly BatchEvent[],
    outcomes: AlertOutcome[][],
    fired: ((rule: Rule, index: number) => void) | undefined,
  ): Promise<void> {
    const all = [...buckets.values()];
    const steps = await Promise.all(all.map((bucket) => this.#store.runScopeBatch(bucket.input)));
    all.forEach((bucket, b) => {
      steps[b]!.forEach((step: ScopeStep, j) => {
        const index = bucket.indexes[j]!;
        const { context, redelivered } = events[index]!;
        if (step.window?.late) this.#hooks.lateEvent?.(bucket.rule.id);
        if (step.window !== undefined && !step.window.fired) return;
        fired?.(bucket.rule, index);
        const outcome = this.#outcome({ rule: bucket.rule, group: bucket.group, result: step.window }, context, redelivered, step.episode!);
        if (outcome) outcomes[index]!.push(outcome);
      });
    });
  }

  #foldLimits(rule: Rule): ScopeBatchInput['fold'] {
    const cooldownMs = this.cooldownMsOf(rule);
    const span = rule.kind === 'correlation' ? rule.timespanMs : 0;
    return {
      cooldownMs,
      ttlMs: Math.max(cooldownMs, span) + this.#settings.latenessMs + 10 * TTL_SLACK_MS,
      maxMembers: this.#settings.maxEntries,
      sampleSize: this.#settings.sampleSize,
      monotone: isMonotone(rule),
    };
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
    const { rule, result } = entry;
    const { monotone, ...limits } = this.#foldLimits(rule);
    const episode = await this.#store.foldEpisode({
      scope: scopeOf(rule.id, entry.group),
      eventId: context.event.event_id,
      ts: context.ts,
      ...limits,
      ...(result?.rangeStart !== undefined && result.rangeEnd !== undefined
        ? { range: { start: result.rangeStart, end: result.rangeEnd }, monotone }
        : {}),
    });
    return this.#outcome(entry, context, redelivered, episode);
  }

  #outcome(entry: Pending, context: EventContext, redelivered: boolean, episode: EpisodeResult): AlertOutcome | undefined {
    const { rule, group, result } = entry;
    if (episode.status !== 'new') this.#hooks.suppressed?.(rule.id);
    if (episode.status === 'stale') return undefined;
    // Unchanged means another delivery already published this content, unless this is a redelivery after a lost publish.
    if (episode.status === 'unchanged' && !redelivered) return undefined;
    const outcome = new AlertOutcome(episode.status === 'new' ? 'new' : 'update', {
      rule,
      context,
      group,
      episode,
      windowCount: result?.count ?? 1,
      environment: this.#settings.environment,
    });
    this.#hooks.alertFolded?.(outcome.alertId, context.event);
    return outcome;
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
