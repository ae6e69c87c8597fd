import { SortedSet } from './sorted-set.ts';
import { evaluateChain, evaluateCountWindow } from './window-evaluation.ts';
import {
  type ChainWindowInput,
  type CountWindowInput,
  type EpisodeResult,
  type FirstSeenBatchInput,
  type FirstSeenBatchResult,
  type FirstSeenState,
  type FirstSeenStatus,
  MEMBER_SEPARATOR,
  memberEventId,
  type FoldInput,
  runScopeBatchStepwise,
  type ScopeBatchInput,
  type ScopeState,
  type ScopeStep,
  type WindowLimits,
  type WindowResult,
  type WindowStore,
} from './window-store.ts';

interface ScopeRecord {
  window: SortedSet;
  watermark: number | undefined;
  windowExpiresAt: number;
  episode: { anchor: number; first: number; last: number; count: number } | undefined;
  members: SortedSet;
  episodeExpiresAt: number;
}

/** The state of one first_seen rule, as first-seen-batch-2.lua keeps it in Redis. */
interface FirstSeenRecord {
  learningStart: number;
  /** Combination -> last seen (clock ms). */
  seen: SortedSet;
  /** Combination -> id of the event that raised it. */
  raisedBy: Map<string, string>;
}

const SWEEP_EVERY = 5000;

/**
 * In-process window store for the all-in-one mode, with the Redis adapter's
 * semantics (watermark, lateness, caps, episodes, lifetimes); single-threaded
 * JavaScript gives the atomicity that Lua scripts give in Redis.
 */
export class MemoryWindowStore implements WindowStore {
  readonly kind = 'memory' as const;
  readonly #scopes = new Map<string, ScopeRecord>();
  readonly #firstSeen = new Map<string, FirstSeenRecord>();
  readonly #now: () => number;
  #operations = 0;
  #closed = false;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async countWindow(input: CountWindowInput): Promise<WindowResult> {
    const record = this.#record(input.scope);
    if (!this.#admit(record, input)) return LATE;
    const member = input.value === undefined ? input.eventId : `${input.value}${MEMBER_SEPARATOR}${input.eventId}`;
    record.window.add(input.ts, member);
    this.#trim(record, input);
    const entries = record.window.range(input.ts - input.timespanMs, input.ts + input.timespanMs);
    return evaluateCountWindow(entries, input.ts, input.timespanMs, input.value !== undefined, input.condition);
  }

  async chainWindow(input: ChainWindowInput): Promise<WindowResult> {
    const record = this.#record(input.scope);
    if (!this.#admit(record, input)) return LATE;
    for (const stage of input.stages) record.window.add(input.ts, `${stage + 1}${MEMBER_SEPARATOR}${input.eventId}`);
    this.#trim(record, input);
    const entries = record.window.range(input.ts - input.timespanMs, input.ts + input.timespanMs);
    return evaluateChain(entries, input.ts, input.timespanMs, input.stageCount, input.ordered, input.stages);
  }

  async foldEpisode(input: FoldInput): Promise<EpisodeResult> {
    const record = this.#record(input.scope);
    const now = this.#now();
    if (record.episode && record.episodeExpiresAt <= now) {
      record.episode = undefined;
      record.members = new SortedSet();
    }
    let status: EpisodeResult['status'] = 'updated';
    let episode = record.episode;
    if (!episode) status = 'new';
    else if (input.ts > episode.last + input.cooldownMs) {
      record.members = new SortedSet();
      status = 'new';
    } else if (input.ts < episode.first - input.cooldownMs) {
      return { status: 'stale', anchor: episode.anchor, firstSeen: episode.first, lastSeen: episode.last, count: episode.count, sample: [] };
    }
    if (status === 'new' || !episode) episode = { anchor: input.ts, first: input.ts, last: input.ts, count: 0 };
    let added = record.members.add(input.ts, input.eventId);
    episode.first = Math.min(episode.first, input.ts);
    episode.last = Math.max(episode.last, input.ts);
    if (input.range) {
      const windowLive = record.windowExpiresAt > now;
      const entries = windowLive ? record.window.range(input.range.start, input.range.end) : [];
      for (const entry of entries) {
        added += record.members.add(entry.score, memberEventId(entry.member));
        episode.first = Math.min(episode.first, entry.score);
        episode.last = Math.max(episode.last, entry.score);
      }
    }
    // Same rule as episode-fold-3.lua: the earliest event time of what opened the episode.
    if (status === 'new') episode.anchor = episode.first;
    episode.count += added;
    if (status !== 'new' && added === 0) status = 'unchanged';
    record.members.trimTo(input.maxMembers);
    record.episode = episode;
    record.episodeExpiresAt = now + input.ttlMs;
    return {
      status,
      anchor: episode.anchor,
      firstSeen: episode.first,
      lastSeen: episode.last,
      count: episode.count,
      sample: record.members.head(input.sampleSize).map((entry) => entry.member),
    };
  }

  runScopeBatch(input: ScopeBatchInput): Promise<ScopeStep[]> {
    return runScopeBatchStepwise(this, input);
  }

  async firstSeenBatch(input: FirstSeenBatchInput): Promise<FirstSeenBatchResult> {
    let record = this.#firstSeen.get(input.rule);
    const started = record === undefined;
    if (record === undefined) {
      record = { learningStart: input.now, seen: new SortedSet(), raisedBy: new Map() };
      this.#firstSeen.set(input.rule, record);
    }
    const { seen, raisedBy } = record;
    const learningOver = input.now >= record.learningStart + input.learningMs;
    // Same order as the script: forget, then the events, then the max_values bound.
    let forgotten = 0;
    if (input.forgetAfterMs !== undefined) {
      for (const entry of seen.removeBelow(input.now - input.forgetAfterMs + 1)) {
        raisedBy.delete(entry.member);
        forgotten++;
      }
    }
    let learned = 0;
    const statuses = input.events.map(({ eventId, combination }): FirstSeenStatus => {
      if (seen.add(input.now, combination) === 1) {
        learned++;
        if (!learningOver) return 'learning';
        raisedBy.set(combination, eventId);
        return 'new';
      }
      return raisedBy.get(combination) === eventId ? 'repeat' : 'known';
    });
    const dropped = seen.trimTo(input.maxValues);
    for (const entry of dropped) raisedBy.delete(entry.member);
    return { learningStart: record.learningStart, started, learned, evicted: dropped.length, forgotten, size: seen.size, statuses };
  }

  async readFirstSeen(rule: string, combination: string | undefined): Promise<FirstSeenState> {
    const record = this.#firstSeen.get(rule);
    if (record === undefined) return { learningStart: undefined, size: 0, lastSeen: undefined };
    const lastSeen = combination === undefined ? undefined : record.seen.score(combination);
    return { learningStart: record.learningStart, size: record.seen.size, lastSeen };
  }

  async readState(scope: string, spanMs: number): Promise<ScopeState> {
    const record = this.#scopes.get(scope);
    const now = this.#now();
    if (!record) return { watermark: undefined, entries: [], episode: undefined };
    const windowLive = record.windowExpiresAt > now && record.watermark !== undefined;
    const episodeLive = record.episode !== undefined && record.episodeExpiresAt > now;
    const watermark = windowLive ? record.watermark : undefined;
    return {
      watermark,
      entries:
        watermark === undefined
          ? []
          : record.window.range(watermark - spanMs, watermark).map((entry) => ({ member: entry.member, ts: entry.score })),
      episode:
        episodeLive && record.episode
          ? {
              anchor: record.episode.anchor,
              firstSeen: record.episode.first,
              lastSeen: record.episode.last,
              count: record.episode.count,
              sample: record.members.head(20).map((entry) => entry.member),
            }
          : undefined,
    };
  }

  async check(): Promise<void> {
    if (this.#closed) throw new Error('in-memory window store is closed');
  }

  isConnected(): boolean {
    return !this.#closed;
  }

  onConnectionChange(): void {
    // Nothing to lose: the store lives in this process.
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#scopes.clear();
    this.#firstSeen.clear();
  }

  /** Number of live scopes, for tests of the lifetime policy. */
  get scopeCount(): number {
    this.#sweep();
    return this.#scopes.size;
  }

  #record(scope: string): ScopeRecord {
    if (++this.#operations % SWEEP_EVERY === 0) this.#sweep();
    let record = this.#scopes.get(scope);
    if (!record) {
      record = { window: new SortedSet(), watermark: undefined, windowExpiresAt: 0, episode: undefined, members: new SortedSet(), episodeExpiresAt: 0 };
      this.#scopes.set(scope, record);
    }
    return record;
  }

  /** Applies the watermark rule; false when the event is too late to count. */
  #admit(record: ScopeRecord, input: WindowLimits): boolean {
    const now = this.#now();
    if (record.windowExpiresAt <= now) {
      record.window = new SortedSet();
      record.watermark = undefined;
    }
    if (record.watermark !== undefined && input.ts < record.watermark - input.latenessMs) return false;
    if (record.watermark === undefined || input.ts > record.watermark) record.watermark = input.ts;
    record.windowExpiresAt = now + input.ttlMs;
    return true;
  }

  #trim(record: ScopeRecord, input: WindowLimits): void {
    record.window.removeBelow((record.watermark ?? input.ts) - input.latenessMs - input.timespanMs);
    record.window.trimTo(input.maxEntries);
  }

  #sweep(): void {
    const now = this.#now();
    for (const [scope, record] of this.#scopes) {
      if (record.windowExpiresAt <= now && record.episodeExpiresAt <= now) this.#scopes.delete(scope);
    }
  }
}

const LATE: WindowResult = { late: true, fired: false, count: 0, rangeStart: undefined, rangeEnd: undefined };
