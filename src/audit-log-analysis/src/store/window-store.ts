import type { CountCondition } from '../rules/rule-set.ts';

/**
 * State of sliding windows and alert episodes, per scope = (rule, group key).
 * Two adapters (Redis, in-memory) implement exactly the same semantics,
 * proven by one contract test suite. All times are event times in epoch ms.
 */
export interface WindowStore {
  readonly kind: 'redis' | 'memory';
  /** Adds an event to an event_count/value_count window and evaluates the condition. */
  countWindow(input: CountWindowInput): Promise<WindowResult>;
  /** Adds an event to the stages of a temporal/temporal_ordered chain and checks the chain. */
  chainWindow(input: ChainWindowInput): Promise<WindowResult>;
  /** Folds an event (and the events of the firing range) into the scope's alert episode. */
  foldEpisode(input: FoldInput): Promise<EpisodeResult>;
  /**
   * Runs the events of one batch that belong to one scope, in the given order,
   * as one unit (one Lua call on Redis): each event is added to the window and
   * folded into the episode when it fires ('fold' scopes only fold), exactly
   * as countWindow/chainWindow then foldEpisode would one event at a time.
   */
  runScopeBatch(input: ScopeBatchInput): Promise<ScopeStep[]>;
  /**
   * Runs the events of one batch that feed one first_seen rule, in order, as
   * one unit (one Lua call on Redis): learns each new value combination and
   * says which to raise (none during the rule's learning period).
   */
  firstSeenBatch(input: FirstSeenBatchInput): Promise<FirstSeenBatchResult>;
  /** A first_seen rule's state, read only (it starts nothing): for GET /rules/:id/state. */
  readFirstSeen(rule: string, combination: string | undefined): Promise<FirstSeenState>;
  /** Current window entries within [watermark - spanMs, watermark] and the open episode. */
  readState(scope: string, spanMs: number): Promise<ScopeState>;
  /** Throws unless the store answers right now. */
  check(): Promise<void>;
  isConnected(): boolean;
  onConnectionChange(listener: (connected: boolean) => void): void;
  close(): Promise<void>;
}

/** Separates the value (or stage) from the event id in a window member. */
export const MEMBER_SEPARATOR = '\u001f';

export interface WindowLimits {
  /** Scope = rule id plus group key; one set of keys per scope. */
  scope: string;
  eventId: string;
  ts: number;
  timespanMs: number;
  latenessMs: number;
  /** Entries kept per scope; the oldest go first. */
  maxEntries: number;
  /** Wall-clock lifetime of the scope's keys after their last update. */
  ttlMs: number;
}

export interface CountWindowInput extends WindowLimits {
  /** Distinct-value counting (value_count) when set; plain event counting otherwise. */
  value?: string;
  condition: CountCondition;
}

/** Most rules a temporal correlation may list (one key per stage in the Redis script). */
export const MAX_CHAIN_STAGES = 4;

export interface ChainWindowInput extends WindowLimits {
  /** 0-based stages this event belongs to. */
  stages: readonly number[];
  /** 2 to MAX_CHAIN_STAGES. */
  stageCount: number;
  ordered: boolean;
}

export interface WindowResult {
  /** The event is older than watermark - lateness: it was not counted. */
  late: boolean;
  fired: boolean;
  /**
   * When fired: for event_count/value_count the count of the trailing window
   * [ts - timespan, ts] (events or distinct values), for chains the number of
   * stages. 0 when not fired (the stores skip counting what cannot fire).
   */
  count: number;
  /** Union of the firing windows, to fold into the episode; undefined when not fired. */
  rangeStart: number | undefined;
  rangeEnd: number | undefined;
}

export interface FoldInput {
  scope: string;
  eventId: string;
  ts: number;
  cooldownMs: number;
  ttlMs: number;
  maxMembers: number;
  sampleSize: number;
  /** Also fold every window entry of this scope with a time in [start, end]. */
  range?: { start: number; end: number };
  /**
   * The rule's condition is monotone (more events never un-fire a window), so
   * the store may skip entries of ranges it already folded: any entry added
   * there later fires, and folds, by itself. Never changes the final episode.
   */
  monotone?: boolean;
}

export interface ScopeBatchEvent {
  eventId: string;
  ts: number;
  /** value_count: the counted value. */
  value?: string;
  /** Chains: the 0-based stages the event belongs to. */
  stages?: readonly number[];
}

export interface ScopeBatchInput {
  scope: string;
  /** count: event_count/value_count window; chain: temporal(_ordered); fold: a detection's episode only. */
  kind: 'count' | 'chain' | 'fold';
  /** Window limits of 'count' and 'chain' scopes. */
  window?: Omit<WindowLimits, 'scope' | 'eventId' | 'ts'> & { condition?: CountCondition; stageCount?: number; ordered?: boolean };
  fold: Omit<FoldInput, 'scope' | 'eventId' | 'ts' | 'range'>;
  events: readonly ScopeBatchEvent[];
}

/** What one event of a scope batch did: its window result (none for 'fold') and its episode when it was folded. */
export interface ScopeStep {
  window: WindowResult | undefined;
  episode: EpisodeResult | undefined;
}

/**
 * The reference meaning of runScopeBatch, one event at a time through the
 * single-event operations; the in-memory store uses it as it is.
 */
export async function runScopeBatchStepwise(store: WindowStore, input: ScopeBatchInput): Promise<ScopeStep[]> {
  const steps: ScopeStep[] = [];
  for (const event of input.events) {
    let window: WindowResult | undefined;
    if (input.kind !== 'fold') {
      const limits = { scope: input.scope, eventId: event.eventId, ts: event.ts, ...input.window! };
      window =
        input.kind === 'count'
          ? await store.countWindow({ ...limits, condition: input.window!.condition ?? {}, ...(event.value === undefined ? {} : { value: event.value }) })
          : await store.chainWindow({
              ...limits,
              stages: event.stages ?? [],
              stageCount: input.window!.stageCount ?? 2,
              ordered: input.window!.ordered ?? false,
            });
    }
    let episode: EpisodeResult | undefined;
    if (window === undefined || window.fired) {
      const ranged = window?.rangeStart !== undefined && window.rangeEnd !== undefined;
      episode = await store.foldEpisode({
        scope: input.scope,
        eventId: event.eventId,
        ts: event.ts,
        ...input.fold,
        ...(ranged ? { range: { start: window!.rangeStart!, end: window!.rangeEnd! } } : { monotone: false }),
      });
    }
    steps.push({ window, episode });
  }
  return steps;
}

export type EpisodeStatus = 'new' | 'updated' | 'unchanged' | 'stale';

export interface Episode {
  /** Event time at which the episode opened; part of the alert id. */
  anchor: number;
  firstSeen: number;
  lastSeen: number;
  count: number;
  /** The earliest event ids of the episode, at most sampleSize. */
  sample: string[];
}

export interface EpisodeResult extends Episode {
  /**
   * new: the episode opened; updated: new events were folded in; unchanged:
   * everything was folded already (a redelivery); stale: the event belongs to
   * an episode that already closed, so it is not folded.
   */
  status: EpisodeStatus;
}

export interface ScopeState {
  watermark: number | undefined;
  entries: { member: string; ts: number }[];
  episode: Episode | undefined;
}

/** The event id of a window member (the part after the last separator). */
export function memberEventId(member: string): string {
  const at = member.lastIndexOf(MEMBER_SEPARATOR);
  return at < 0 ? member : member.slice(at + 1);
}

/** The value or stage of a window member (the part before the last separator). */
export function memberTag(member: string): string | undefined {
  const at = member.lastIndexOf(MEMBER_SEPARATOR);
  return at < 0 ? undefined : member.slice(0, at);
}

/** The events of one batch that feed one first_seen rule. */
export interface FirstSeenBatchInput {
  /** The rule id: one set of keys per rule. */
  rule: string;
  /**
   * The analysis clock's time (ms), not event time: the learning period,
   * last-seen scores and forgetting follow it, so replayed old events learn
   * like live ones and tests move the clock instead of sleeping.
   */
  now: number;
  learningMs: number;
  forgetAfterMs: number | undefined;
  /** Combinations kept per rule; the least recently seen are evicted first. */
  maxValues: number;
  /** `combination` is the alert's group key text (group-by fields and learned fields). */
  events: readonly { eventId: string; combination: string }[];
}

/**
 * learning: new, learned silently; new: new, to raise; repeat: the very event
 * that raised this combination, again (a redelivery: raise it again, same
 * alert id); known: seen before.
 */
export type FirstSeenStatus = 'learning' | 'new' | 'repeat' | 'known';

export interface FirstSeenState {
  /** Undefined until the rule was first seen by the store (or after its state was lost). */
  learningStart: number | undefined;
  /** Combinations kept. */
  size: number;
  /** When the asked combination was last seen; undefined when it is not kept. */
  lastSeen: number | undefined;
}

export interface FirstSeenBatchResult {
  /** When the rule's learning period began (ms, the clock's time). */
  learningStart: number;
  /** The learning period began with this call: the rule's first use, or its state was lost. */
  started: boolean;
  learned: number;
  /** Dropped for max_values (least recently seen first). */
  evicted: number;
  /** Dropped for forget_after. */
  forgotten: number;
  /** Combinations kept after the call. */
  size: number;
  /** One per event, in order. */
  statuses: FirstSeenStatus[];
}
