import { AfRedisUnavailableError, AfRedisFullError } from '@auditflow/common';
import { Redis, ReplyError } from 'ioredis';
import { loadLuaScript } from './lua-scripts.ts';
import type {
  ChainWindowInput,
  CountWindowInput,
  EpisodeResult,
  EpisodeStatus,
  FirstSeenBatchInput,
  FirstSeenBatchResult,
  FirstSeenState,
  FirstSeenStatus,
  FoldInput,
  ScopeBatchInput,
  ScopeState,
  ScopeStep,
  WindowResult,
  WindowStore,
} from './window-store.ts';
import { MEMBER_SEPARATOR } from './window-store.ts';

type Reply = (string | number)[];

interface ScriptCommands {
  afCountWindow(k1: string, k2: string, k3: string, ...args: (string | number)[]): Promise<Reply>;
  afChainWindow(k1: string, k2: string, k3: string, k4: string, k5: string, k6: string, ...args: (string | number)[]): Promise<Reply>;
  afEpisodeFold(k1: string, k2: string, k3: string, ...args: (string | number)[]): Promise<Reply>;
  afScopeBatch(...keysAndArgs: (string | number)[]): Promise<[Reply, Reply][]>;
  afFirstSeenBatch(seen: string, raisedBy: string, ...args: (string | number)[]): Promise<Reply>;
}

export interface RedisWindowStoreOptions {
  url: string;
  /** Prefix of every key, e.g. `af:`. */
  keyPrefix: string;
  /** Per-command timeout, so a hung server surfaces as a transient error. @default 5000 */
  commandTimeoutMs?: number;
}

/**
 * Redis adapter: each update is one atomic Lua script (loaded once, run with
 * EVALSHA by ioredis), every key has a lifetime, and auto-pipelining batches
 * the commands of concurrent handlers into few round trips.
 */
export class RedisWindowStore implements WindowStore {
  readonly kind = 'redis' as const;
  readonly #redis: Redis & ScriptCommands;
  readonly #prefix: string;
  readonly #listeners: ((connected: boolean) => void)[] = [];
  #connected = false;
  /** Until when readiness stays false after Redis refused a write for lack of memory. */
  #fullUntil = 0;

  constructor(options: RedisWindowStoreOptions) {
    this.#prefix = options.keyPrefix;
    const redis = new Redis(options.url, {
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
      commandTimeout: options.commandTimeoutMs ?? 5000,
      connectTimeout: 5000,
      retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 5000),
      lazyConnect: false,
    });
    // scope-batch includes the single-event scripts as functions, so a batch runs the very same code as
    // one call per event; first-seen-batch includes first-seen-drop (the `--- @include` lines).
    for (const file of ['count-window-3.lua', 'chain-window-6.lua', 'episode-fold-3.lua', 'scope-batch-9.lua', 'first-seen-batch-2.lua'] as const) {
      const script = loadLuaScript(file);
      const command = `af${script.name.replace(/(^|-)(\w)/g, (_m, _d, c: string) => c.toUpperCase())}`;
      redis.defineCommand(command, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
    redis.on('ready', () => this.#setConnected(true));
    redis.on('close', () => this.#setConnected(false));
    redis.on('end', () => this.#setConnected(false));
    // ioredis reconnects by itself; the error is surfaced through readiness and metrics.
    redis.on('error', () => this.#setConnected(redis.status === 'ready'));
    this.#redis = redis as Redis & ScriptCommands;
  }

  /** Resolves once connected (or rejects after the connect timeout), for start-up ordering. */
  async connect(): Promise<void> {
    if (this.#redis.status === 'ready') return;
    await this.#call(() => this.#redis.ping());
  }

  async countWindow(input: CountWindowInput): Promise<WindowResult> {
    const keys = this.#keys(input.scope);
    const member = input.value === undefined ? input.eventId : `${input.value}${MEMBER_SEPARATOR}${input.eventId}`;
    const c = input.condition;
    const reply = await this.#call(() =>
      this.#redis.afCountWindow(
        keys.window,
        keys.values,
        keys.watermark,
        member,
        input.ts,
        input.timespanMs,
        input.latenessMs,
        input.maxEntries,
        input.ttlMs,
        input.value === undefined ? 'events' : 'values',
        c.gt ?? '',
        c.gte ?? '',
        c.lt ?? '',
        c.lte ?? '',
        c.eq ?? '',
      ),
    );
    return toWindowResult(reply);
  }

  async chainWindow(input: ChainWindowInput): Promise<WindowResult> {
    const keys = this.#keys(input.scope);
    const reply = await this.#call(() =>
      this.#redis.afChainWindow(
        keys.window,
        keys.watermark,
        `${keys.stage}1`,
        `${keys.stage}2`,
        `${keys.stage}3`,
        `${keys.stage}4`,
        input.eventId,
        input.ts,
        input.timespanMs,
        input.latenessMs,
        input.maxEntries,
        input.ttlMs,
        input.stageCount,
        input.ordered ? '1' : '0',
        ...input.stages.map((stage) => stage + 1),
      ),
    );
    return toWindowResult(reply);
  }

  async foldEpisode(input: FoldInput): Promise<EpisodeResult> {
    const keys = this.#keys(input.scope);
    const reply = await this.#call(() =>
      this.#redis.afEpisodeFold(
        keys.episode,
        keys.members,
        keys.window,
        input.eventId,
        input.ts,
        input.cooldownMs,
        input.ttlMs,
        input.range ? input.range.start : '',
        input.range ? input.range.end : '',
        input.maxMembers,
        input.sampleSize,
        input.monotone ? '1' : '0',
      ),
    );
    return toEpisodeResult(reply);
  }

  async runScopeBatch(input: ScopeBatchInput): Promise<ScopeStep[]> {
    const keys = this.#keys(input.scope);
    const f = input.fold;
    const args: (string | number)[] = [
      keys.window,
      keys.values,
      keys.watermark,
      `${keys.stage}1`,
      `${keys.stage}2`,
      `${keys.stage}3`,
      `${keys.stage}4`,
      keys.episode,
      keys.members,
      input.kind,
      f.cooldownMs,
      f.ttlMs,
      f.maxMembers,
      f.sampleSize,
      f.monotone ? '1' : '0',
      input.events.length,
    ];
    const w = input.window;
    for (const event of input.events) {
      args.push(event.eventId, event.ts);
      if (input.kind === 'fold' || w === undefined) args.push(0);
      else if (input.kind === 'count') {
        const c = w.condition ?? {};
        const member = event.value === undefined ? event.eventId : `${event.value}${MEMBER_SEPARATOR}${event.eventId}`;
        args.push(12, member, event.ts, w.timespanMs, w.latenessMs, w.maxEntries, w.ttlMs, event.value === undefined ? 'events' : 'values');
        args.push(c.gt ?? '', c.gte ?? '', c.lt ?? '', c.lte ?? '', c.eq ?? '');
      } else {
        const stages = (event.stages ?? []).map((stage) => stage + 1);
        args.push(8 + stages.length, event.eventId, event.ts, w.timespanMs, w.latenessMs, w.maxEntries, w.ttlMs);
        args.push(w.stageCount ?? 2, w.ordered ? '1' : '0', ...stages);
      }
    }
    const reply = await this.#call(() => this.#redis.afScopeBatch(...args));
    return reply.map(([window, episode]) => ({
      window: window.length === 0 ? undefined : toWindowResult(window),
      episode: episode.length === 0 ? undefined : toEpisodeResult(episode),
    }));
  }

  async firstSeenBatch(input: FirstSeenBatchInput): Promise<FirstSeenBatchResult> {
    const keys = this.firstSeenKeys(input.rule);
    const args: (string | number)[] = [input.now, input.learningMs, input.forgetAfterMs ?? '', input.maxValues, input.events.length];
    for (const event of input.events) args.push(event.eventId, event.combination);
    const reply = await this.#call(() => this.#redis.afFirstSeenBatch(keys.seen, keys.raisedBy, ...args));
    const [start, started, learned, evicted, forgotten, size, ...statuses] = reply;
    return {
      learningStart: Number(start),
      started: Number(started) === 1,
      learned: Number(learned),
      evicted: Number(evicted),
      forgotten: Number(forgotten),
      size: Number(size),
      statuses: statuses.map((status) => String(status) as FirstSeenStatus),
    };
  }

  async readFirstSeen(rule: string, combination: string | undefined): Promise<FirstSeenState> {
    const keys = this.firstSeenKeys(rule);
    return this.#call(async () => {
      const [start, size, last] = await Promise.all([
        this.#redis.zscore(keys.seen, ''),
        this.#redis.zcard(keys.seen),
        combination === undefined ? Promise.resolve(null) : this.#redis.zscore(keys.seen, combination),
      ]);
      return {
        learningStart: start === null ? undefined : Number(start),
        size: Math.max(0, size - (start === null ? 0 : 1)),
        lastSeen: last === null ? undefined : Number(last),
      };
    });
  }

  /**
   * The keys of one first_seen rule (one hash tag per rule, for Redis Cluster):
   * the seen set with its learning-start marker, and the raised-by hash.
   */
  firstSeenKeys(rule: string): { seen: string; raisedBy: string } {
    const base = `${this.#prefix}{fs|${rule}}`;
    return { seen: `${base}:seen`, raisedBy: `${base}:raised` };
  }

  async readState(scope: string, spanMs: number): Promise<ScopeState> {
    const keys = this.#keys(scope);
    return this.#call(async () => {
      const [watermarkRaw, episode, sample] = await Promise.all([
        this.#redis.get(keys.watermark),
        this.#redis.hgetall(keys.episode),
        this.#redis.zrange(keys.members, 0, 19),
      ]);
      const watermark = watermarkRaw === null ? undefined : Number(watermarkRaw);
      const flat = watermark === undefined ? [] : await this.#redis.zrangebyscore(keys.window, watermark - spanMs, watermark, 'WITHSCORES');
      const entries: ScopeState['entries'] = [];
      for (let i = 0; i < flat.length; i += 2) entries.push({ member: flat[i]!, ts: Number(flat[i + 1]) });
      return {
        watermark,
        entries,
        episode:
          episode['anchor'] === undefined
            ? undefined
            : {
                anchor: Number(episode['anchor']),
                firstSeen: Number(episode['first']),
                lastSeen: Number(episode['last']),
                count: Number(episode['count']),
                sample,
              },
      };
    });
  }

  async check(): Promise<void> {
    // Commands wait in ioredis' offline queue while disconnected: answer at once instead of hanging the probe.
    if (this.#redis.status !== 'ready') throw new AfRedisUnavailableError(`Redis is unavailable (connection ${this.#redis.status})`);
    if (Date.now() < this.#fullUntil) throw new AfRedisFullError(FULL_MESSAGE);
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race([
      this.#call(() => this.#redis.ping()),
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new AfRedisUnavailableError(`Redis did not answer PING within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    if (answer !== 'PONG') throw new AfRedisUnavailableError(`unexpected PING answer ${answer}`);
  }

  isConnected(): boolean {
    return this.#connected;
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.#listeners.push(listener);
  }

  async close(): Promise<void> {
    try {
      await this.#redis.quit();
    } catch {
      this.#redis.disconnect();
    }
    this.#setConnected(false);
  }

  /** Every key of a scope shares one hash tag, so the scripts also run on a Redis Cluster. */
  #keys(scope: string): { window: string; values: string; watermark: string; episode: string; members: string; stage: string } {
    const base = `${this.#prefix}{${scope}}`;
    return {
      window: `${base}:w`,
      values: `${base}:v`,
      watermark: `${base}:wm`,
      episode: `${base}:e`,
      members: `${base}:em`,
      stage: `${base}:s`,
    };
  }

  async #call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      // A script error is a bug, not an outage: let the delivery policy bound its retries.
      const message = String((error as Error).message);
      if (error instanceof ReplyError && message.startsWith('OOM')) {
        this.#fullUntil = Date.now() + FULL_HOLD_MS;
        throw new AfRedisFullError(`${FULL_MESSAGE}: ${message}`, { cause: error });
      }
      if (error instanceof ReplyError && message.startsWith('ERR ') && !message.includes('NOSCRIPT')) throw error;
      throw new AfRedisUnavailableError(`Redis is unavailable: ${message}`, { cause: error });
    }
  }

  #setConnected(connected: boolean): void {
    if (connected === this.#connected) return;
    this.#connected = connected;
    for (const listener of this.#listeners) listener(connected);
  }
}

/** Readiness answers well within the probe's timeout, even when Redis hangs. */
const CHECK_TIMEOUT_MS = 800;
const FULL_HOLD_MS = 5000;
const FULL_MESSAGE =
  'Redis is full (maxmemory reached; the shipped config uses noeviction so window and episode keys are never evicted): raise maxmemory or the Redis memory limit; events are retried, not lost';

function toWindowResult(reply: Reply): WindowResult {
  const [late, fired, count, start, end] = reply;
  const firedFlag = Number(fired) === 1;
  return {
    late: Number(late) === 1,
    fired: firedFlag,
    count: Number(count),
    rangeStart: firedFlag ? Number(start) : undefined,
    rangeEnd: firedFlag ? Number(end) : undefined,
  };
}

function toEpisodeResult(reply: Reply): EpisodeResult {
  const [status, anchor, first, last, count, ...sample] = reply.map(String);
  return {
    status: status as EpisodeStatus,
    anchor: Number(anchor),
    firstSeen: Number(first),
    lastSeen: Number(last),
    count: Number(count),
    sample,
  };
}
