import type { Alert } from '@auditflow/common';
import type { EventContext } from '../rules/event-context.ts';
import { DetectionIndex } from '../rules/rule-index.ts';
import type { CorrelationRule, Rule, RuleSet } from '../rules/rule-set.ts';
import type { EpisodeResult, FirstSeenBatchResult, ScopeBatchEvent, ScopeBatchInput, ScopeStep, WindowResult, WindowStore } from '../store/window-store.ts';
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
  /** The clock of first_seen rules (learning period, last seen, forgetting). @default Date.now */
  now?: () => number;
}

/** Observers of what the engine decides, wired to metrics by the service. */
export interface EngineHooks {
  ruleMatched?(ruleId: string): void;
  lateEvent?(ruleId: string): void;
  suppressed?(ruleId: string): void;
  /** An event older than the open episode of its group: neither folded nor alerted, so it is reported here. */
  stale?(ruleId: string, eventId: string, episode: { anchor: number; firstSeen: number }): void;
  /** What one first_seen call did; `relearning` when its learning period restarted after it was known (its state was lost). */
  firstSeen?(ruleId: string, result: FirstSeenBatchResult, relearning: boolean): void;
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

/** The events of a batch that feed one first_seen rule. */
interface FirstSeenRun {
  rule: FirstSeenRule;
  events: { eventId: string; combination: string }[];
  groups: GroupKey[];
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
  /** Per first_seen rule, when its learning period ends, as last answered by the store. */
  readonly #learningUntil = new Map<string, number>();
  readonly #hooks: EngineHooks;
  /** Correlations grouped by depth: each level only references earlier ones. */
  readonly #levels: CorrelationRule[][];
  /** Detections by what an event must carry to match them: an event is only tested against its candidates. */
  readonly index: DetectionIndex;

  constructor(options: {
    rules: RuleSet;
    store: WindowStore;
    settings: EngineSettings;
    hooks?: EngineHooks;
    /** false tests every event against every detection: the reference the index is checked against. @default true */
    indexRules?: boolean;
  }) {
    this.rules = options.rules;
    this.#store = options.store;
    this.#settings = { maxEntries: 10_000, sampleSize: 20, now: Date.now, ...options.settings };
    this.#hooks = options.hooks ?? {};
    this.#levels = levelsOf(options.rules);
    this.index = new DetectionIndex(options.rules.detections, options.indexRules ?? true);
  }

  /**
   * Starts the learning period of every first_seen rule not yet known to the
   * store (start-up: learning runs from install, not from the first match).
   */
  async startFirstSeen(): Promise<void> {
    const now = this.#settings.now();
    await Promise.all(
      this.rules.correlations.filter(hasFirstSeen).map(async (rule) => this.#recordFirstSeen(rule, await this.#store.firstSeenBatch(firstSeenInput(rule, now, [])))),
    );
  }

  /** First_seen rules still learning at the clock's time; a rule the store has not answered for yet counts as learning. */
  firstSeenRulesLearning(): number {
    const now = this.#settings.now();
    return this.rules.correlations.filter((rule) => rule.firstSeen && !(now >= (this.#learningUntil.get(rule.id) ?? Number.POSITIVE_INFINITY))).length;
  }

  cooldownMsOf(rule: Rule): number {
    return rule.cooldownMs ?? this.#settings.defaultCooldownMs;
  }

  /**
   * The one evaluation path (a batch of one is one event): base rules are
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
      for (const rule of this.index.candidates(context)) {
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
      seen.push(matched);
    });
    // Detection episodes never feed a correlation: their store calls go out with the first level's.
    const detectionRun = this.#runBuckets(folds, events, outcomes, undefined);
    const now = this.#settings.now();
    for (const level of this.#levels) {
      const buckets = new Map<string, ScopeBucket>();
      const firstSeenRuns: FirstSeenRun[] = [];
      for (const rule of level) {
        if (hasFirstSeen(rule)) {
          const run = firstSeenRunOf(rule, events, seen);
          if (run.events.length > 0) firstSeenRuns.push(run);
          continue;
        }
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
      const fired = (rule: Rule, index: number) => {
        seen[index]!.add(rule.id);
        this.#hooks.ruleMatched?.(rule.id);
      };
      await Promise.all([this.#runBuckets(buckets, events, outcomes, fired), ...firstSeenRuns.map((run) => this.#runFirstSeen(run, now, events, outcomes, fired))]);
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

  /** One store call for the rule's events of the batch; each new combination after learning becomes one alert. */
  async #runFirstSeen(
    run: FirstSeenRun,
    now: number,
    events: readonly BatchEvent[],
    outcomes: AlertOutcome[][],
    fired: (rule: Rule, index: number) => void,
  ): Promise<void> {
    const result = await this.#store.firstSeenBatch(firstSeenInput(run.rule, now, run.events));
    this.#recordFirstSeen(run.rule, result);
    result.statuses.forEach((status, j) => {
      const index = run.indexes[j]!;
      const { context, redelivered } = events[index]!;
      // The event that raised the combination, again: its publish may have been lost.
      if (status !== 'new' && !(status === 'repeat' && redelivered)) return;
      fired(run.rule, index);
      const episode = { anchor: context.ts, firstSeen: context.ts, lastSeen: context.ts, count: 1, sample: [context.event.event_id] };
      outcomes[index]!.push(
        new AlertOutcome('new', { rule: run.rule, context, group: run.groups[j]!, episode, windowCount: 1, environment: this.#settings.environment }),
      );
    });
  }

  #recordFirstSeen(rule: FirstSeenRule, result: FirstSeenBatchResult): void {
    const relearning = result.started && this.#learningUntil.has(rule.id);
    this.#learningUntil.set(rule.id, result.learningStart + rule.firstSeen.learningMs);
    this.#hooks.firstSeen?.(rule.id, result, relearning);
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

  #outcome(entry: Pending, context: EventContext, redelivered: boolean, episode: EpisodeResult): AlertOutcome | undefined {
    const { rule, group, result } = entry;
    if (episode.status === 'stale') {
      this.#hooks.stale?.(rule.id, context.event.event_id, { anchor: episode.anchor, firstSeen: episode.firstSeen });
      return undefined;
    }
    if (episode.status !== 'new') this.#hooks.suppressed?.(rule.id);
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

type FirstSeenRule = CorrelationRule & { firstSeen: NonNullable<CorrelationRule['firstSeen']> };

function hasFirstSeen(rule: CorrelationRule): rule is FirstSeenRule {
  return rule.firstSeen !== undefined;
}

function firstSeenInput(rule: FirstSeenRule, now: number, events: FirstSeenRun['events']) {
  const { learningMs, forgetAfterMs, maxValues } = rule.firstSeen;
  return { rule: rule.id, now, learningMs, forgetAfterMs, maxValues, events };
}

/**
 * The events of the batch that matched one of the rule's sources and carry
 * every learned field (a missing or empty field does not match). The
 * combination is the alert's group key: group-by fields, then learned fields.
 */
function firstSeenRunOf(rule: FirstSeenRule, events: readonly BatchEvent[], seen: readonly (Set<string> | undefined)[]): FirstSeenRun {
  const run: FirstSeenRun = { rule, events: [], groups: [], indexes: [] };
  const keyFields = [...rule.groupBy, ...rule.firstSeen.fields];
  events.forEach(({ context }, index) => {
    const matched = seen[index];
    if (matched === undefined || !rule.sources.some((source) => matched.has(source))) return;
    for (const field of rule.firstSeen.fields) {
      const value = context.get(field.path);
      if (value === undefined || value === null || value === '') return;
    }
    const group = groupKeyOf(keyFields, context);
    run.events.push({ eventId: context.event.event_id, combination: group.text });
    run.groups.push(group);
    run.indexes.push(index);
  });
  return run;
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
