import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { MemoryWindowStore } from '../src/store/memory-window-store.ts';
import { RedisWindowStore } from '../src/store/redis-window-store.ts';
import {
  type ChainWindowInput,
  type CountWindowInput,
  type FirstSeenBatchInput,
  type FoldInput,
  runScopeBatchStepwise,
  type ScopeBatchInput,
  type WindowStore,
} from '../src/store/window-store.ts';
import { REDIS_URL, uniqueName } from '../../common/test/support.ts';

const S = 1000;
const H = 3_600 * S;
const T0 = Date.parse('2026-01-01T00:00:00Z');

interface Adapter {
  name: string;
  create(): { store: WindowStore; cleanup: () => Promise<void> };
}

const adapters: Adapter[] = [
  {
    name: 'memory',
    create: () => {
      const store = new MemoryWindowStore();
      return { store, cleanup: () => store.close() };
    },
  },
  {
    name: 'redis',
    create: () => {
      const prefix = `${uniqueName('win')}:`;
      const store = new RedisWindowStore({ url: REDIS_URL, keyPrefix: prefix });
      return {
        store,
        cleanup: async () => {
          await store.close();
          const admin = new Redis(REDIS_URL);
          const keys = await admin.keys(`${prefix}*`);
          if (keys.length > 0) await admin.del(...keys);
          await admin.quit();
        },
      };
    },
  },
];

function counter(store: WindowStore, scope: string, base: Partial<CountWindowInput> = {}) {
  return (ts: number, extra: Partial<CountWindowInput> = {}) =>
    store.countWindow({
      scope,
      eventId: randomUUID(),
      ts,
      timespanMs: 60 * S,
      latenessMs: 300 * S,
      maxEntries: 10_000,
      ttlMs: 3_600 * S,
      condition: { gte: 3 },
      ...base,
      ...extra,
    });
}

function chain(store: WindowStore, scope: string, ordered: boolean) {
  return (ts: number, stage: number, eventId: string = randomUUID(), extra: Partial<ChainWindowInput> = {}) =>
    store.chainWindow({
      scope,
      eventId,
      ts,
      timespanMs: 600 * S,
      latenessMs: 3_600 * S,
      maxEntries: 10_000,
      ttlMs: 3_600 * S,
      stages: [stage],
      stageCount: 2,
      ordered,
      ...extra,
    });
}

function fold(store: WindowStore, scope: string, base: Partial<FoldInput> = {}) {
  return (ts: number, extra: Partial<FoldInput> = {}) =>
    store.foldEpisode({
      scope,
      eventId: randomUUID(),
      ts,
      cooldownMs: 300 * S,
      ttlMs: 3_600 * S,
      maxMembers: 10_000,
      sampleSize: 20,
      ...base,
      ...extra,
    });
}

for (const adapter of adapters) {
  describe(`WindowStore contract: ${adapter.name}`, () => {
    const { store, cleanup } = adapter.create();
    after(cleanup);
    const scope = () => uniqueName('scope');

    test('event_count fires at the threshold and not before', async () => {
      const add = counter(store, scope());
      assert.equal((await add(T0)).fired, false);
      const second = await add(T0 + 10 * S);
      assert.equal(second.fired, false);
      assert.equal(second.count, 0, 'no count is reported for a window that did not fire');
      const third = await add(T0 + 20 * S);
      assert.equal(third.fired, true);
      assert.equal(third.count, 3);
      assert.equal(third.rangeStart, T0);
      assert.equal(third.rangeEnd, T0 + 60 * S);
    });

    test('an event exactly timespan after the first still shares its window; one ms later does not', async () => {
      const inside = counter(store, scope());
      await inside(T0);
      await inside(T0 + 30 * S);
      assert.equal((await inside(T0 + 60 * S)).fired, true);
      const outside = counter(store, scope());
      await outside(T0);
      await outside(T0 + 30 * S);
      const late = await outside(T0 + 60 * S + 1);
      assert.equal(late.fired, false);
    });

    test('out-of-order arrival gives the same answer: the window ahead of the event counts too', async () => {
      const add = counter(store, scope());
      assert.equal((await add(T0 + 50 * S)).fired, false);
      assert.equal((await add(T0 + 40 * S)).fired, false);
      const earliest = await add(T0);
      assert.equal(earliest.fired, true, 'window [T0, T0+60s] contains all three');
      assert.equal(earliest.rangeStart, T0);
    });

    test('a redelivered event (same id) counts once', async () => {
      const add = counter(store, scope());
      const id = randomUUID();
      await add(T0, { eventId: id });
      await add(T0, { eventId: id });
      const again = await add(T0, { eventId: id });
      assert.equal(again.fired, false);
      assert.equal((await add(T0 + S)).fired, false, 'two distinct events, not four');
      assert.equal((await add(T0 + 2 * S)).count, 3);
    });

    test('events older than watermark - lateness are late and not counted', async () => {
      const s = scope();
      const add = counter(store, s, { latenessMs: 30 * S, condition: { gte: 2 } });
      await add(T0 + 100 * S);
      const late = await add(T0 + 69 * S);
      assert.equal(late.late, true);
      assert.equal(late.fired, false);
      const onTime = await add(T0 + 70 * S);
      assert.equal(onTime.late, false);
      assert.equal(onTime.fired, true, 'window [70s, 130s] holds both on-time events');
      assert.equal(onTime.count, 1, 'the trailing window [10s, 70s] holds only this event');
      const state = await store.readState(s, 60 * S);
      assert.equal(state.entries.length, 2, 'the late event was not stored');
    });

    test('an older event finds the earliest and latest firing windows among many entries', async () => {
      const add = counter(store, scope(), { condition: { gte: 3 } });
      for (let i = 0; i < 150; i++) await add(T0 + i * S);
      const older = await add(T0 + 75 * S + 500);
      assert.equal(older.fired, true);
      assert.equal(older.rangeStart, T0 + 16 * S, 'the first start whose window contains the event');
      assert.equal(older.rangeEnd, T0 + 75 * S + 500 + 60 * S, 'the event itself starts the latest window');
      assert.equal(older.count, 61, 'trailing window [15.5s, 75.5s]: 60 entries plus the event');
      const sparse = counter(store, scope(), { condition: { gte: 3 } });
      await sparse(T0 + 100 * S);
      assert.equal((await sparse(T0 + 10 * S)).fired, false);
    });

    test('value_count counts distinct values, not events', async () => {
      const add = counter(store, scope(), { condition: { gte: 3 } });
      await add(T0, { value: 'alice' });
      await add(T0 + S, { value: 'alice' });
      const two = await add(T0 + 2 * S, { value: 'bob' });
      assert.equal(two.fired, false);
      const three = await add(T0 + 3 * S, { value: 'carol' });
      assert.equal(three.fired, true);
      assert.equal(three.count, 3);
    });

    test('range conditions (gte and lt) and eq are evaluated per window', async () => {
      const add = counter(store, scope(), { condition: { gte: 2, lt: 3 } });
      assert.equal((await add(T0)).fired, false);
      assert.equal((await add(T0 + S)).fired, true);
      const eq = counter(store, scope(), { condition: { eq: 1 } });
      assert.equal((await eq(T0)).fired, true);
    });

    test('the window keeps at most maxEntries entries', async () => {
      const s = scope();
      const add = counter(store, s, { maxEntries: 3, condition: { gte: 4 } });
      for (let i = 0; i < 5; i++) await add(T0 + i * S);
      const last = await add(T0 + 5 * S);
      assert.equal(last.fired, false, 'six events within 60s, but only three are kept');
      assert.equal((await store.readState(s, 60 * S)).entries.length, 3);
    });

    test('temporal_ordered fires only when the stages occur in order within the timespan', async () => {
      const ordered = chain(store, scope(), true);
      assert.equal((await ordered(T0 + 10 * S, 1)).fired, false, 'second stage alone');
      assert.equal((await ordered(T0 + 20 * S, 0)).fired, false, 'first stage after the second is out of order');
      const done = await ordered(T0 + 30 * S, 1);
      assert.equal(done.fired, true);
      assert.equal(done.rangeStart, T0 + 20 * S);
      assert.equal(done.rangeEnd, T0 + 30 * S);

      const reversed = chain(store, scope(), true);
      assert.equal((await reversed(T0 + 30 * S, 1)).fired, false);
      assert.equal((await reversed(T0, 0)).fired, true, 'arriving late, the first stage completes the chain');

      const tooSlow = chain(store, scope(), true);
      await tooSlow(T0, 0);
      assert.equal((await tooSlow(T0 + 600 * S + 1, 1)).fired, false);
      const edge = chain(store, scope(), true);
      await edge(T0, 0);
      assert.equal((await edge(T0 + 600 * S, 1)).fired, true, 'exactly at the timespan');
    });

    test('a three-stage ordered chain completes from its middle stage, and only in order', async () => {
      const three = (s: string) => (ts: number, stage: number) => chain(store, s, true)(ts, stage, randomUUID(), { stageCount: 3 });
      const inOrder = three(scope());
      await inOrder(T0, 0);
      assert.equal((await inOrder(T0 + 20 * S, 2)).fired, false);
      const middle = await inOrder(T0 + 10 * S, 1);
      assert.equal(middle.fired, true);
      assert.equal(middle.count, 3);
      assert.equal(middle.rangeStart, T0);
      assert.equal(middle.rangeEnd, T0 + 20 * S);
      const wrong = three(scope());
      await wrong(T0, 0);
      await wrong(T0 + 20 * S, 2);
      assert.equal((await wrong(T0 + 25 * S, 1)).fired, false, 'stage 2 after stage 3');
      const many = three(scope());
      for (let i = 0; i < 100; i++) await many(T0 + i * 100, 0);
      await many(T0 + 700 * S, 2);
      const tooLong = await many(T0 + 200 * S, 1);
      assert.equal(tooLong.fired, false, 'every chain through it would span more than the timespan');
      const fits = await many(T0 + 605 * S, 2);
      assert.equal(fits.fired, true);
      assert.equal(fits.rangeStart, T0 + 5 * S, 'the earliest first-stage entry within 600s of the chain end');
      assert.equal(fits.rangeEnd, T0 + 605 * S);
    });

    test('temporal fires in any order once every stage is present', async () => {
      const any = chain(store, scope(), false);
      assert.equal((await any(T0 + 30 * S, 1)).fired, false);
      const done = await any(T0, 0);
      assert.equal(done.fired, true);
      assert.equal(done.count, 2);
    });

    test('an episode opens once, folds repeats within the cooldown and counts each event once', async () => {
      const s = scope();
      const add = fold(store, s);
      const first = await add(T0);
      assert.equal(first.status, 'new');
      assert.equal(first.anchor, T0);
      assert.equal(first.count, 1);
      const id = randomUUID();
      const second = await add(T0 + 100 * S, { eventId: id });
      assert.equal(second.status, 'updated');
      assert.equal(second.anchor, T0);
      assert.equal(second.count, 2);
      assert.equal(second.lastSeen, T0 + 100 * S);
      const redelivered = await add(T0 + 100 * S, { eventId: id });
      assert.equal(redelivered.status, 'unchanged');
      assert.equal(redelivered.count, 2);
      const earlier = await add(T0 - 50 * S);
      assert.equal(earlier.status, 'updated');
      assert.equal(earlier.firstSeen, T0 - 50 * S);
      assert.equal(earlier.sample.length, 3);
      const stale = await add(T0 - 50 * S - 300 * S - 1);
      assert.equal(stale.status, 'stale');
      const next = await add(T0 + 100 * S + 300 * S + 1);
      assert.equal(next.status, 'new', 'after the cooldown a new episode opens');
      assert.equal(next.anchor, T0 + 400 * S + 1);
      assert.equal(next.count, 1);
    });

    test('folding a firing range takes in every window entry of the range', async () => {
      const s = scope();
      const add = counter(store, s);
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      await add(T0, { eventId: ids[0]! });
      await add(T0 + S, { eventId: ids[1]! });
      const fired = await add(T0 + 2 * S, { eventId: ids[2]! });
      assert.equal(fired.fired, true);
      const episode = await fold(store, s)(T0 + 2 * S, {
        eventId: ids[2]!,
        range: { start: fired.rangeStart!, end: fired.rangeEnd! },
      });
      assert.equal(episode.status, 'new');
      assert.equal(episode.count, 3);
      assert.equal(episode.firstSeen, T0);
      assert.equal(episode.lastSeen, T0 + 2 * S);
      assert.deepEqual(new Set(episode.sample), new Set(ids));
      const state = await store.readState(s, 60 * S);
      assert.equal(state.watermark, T0 + 2 * S);
      assert.equal(state.entries.length, 3);
      assert.equal(state.episode?.count, 3);
    });

    test('monotone folds skip ranges already folded and still end with every event', async () => {
      const s = scope();
      const add = counter(store, s);
      const folder = fold(store, s, { monotone: true });
      let last: Awaited<ReturnType<typeof folder>> | undefined;
      const late = randomUUID();
      for (let i = 0; i < 6; i++) {
        const eventId = randomUUID();
        const ts = T0 + (i === 5 ? 1500 : i * S);
        const result = await add(ts, { eventId: i === 5 ? late : eventId });
        if (result.fired) {
          last = await folder(ts, { eventId: i === 5 ? late : eventId, range: { start: result.rangeStart!, end: result.rangeEnd! } });
        }
      }
      assert.equal(last?.count, 6, 'the out-of-order entry inside the folded interval folded itself');
      assert.equal(last?.firstSeen, T0);
      assert.equal(last?.lastSeen, T0 + 4 * S);
    });

    test('the sample of event ids is bounded', async () => {
      const add = fold(store, scope(), { sampleSize: 5 });
      let last = await add(T0);
      for (let i = 1; i < 12; i++) last = await add(T0 + i * S);
      assert.equal(last.count, 12);
      assert.equal(last.sample.length, 5);
    });

    test('keys expire after their lifetime', async () => {
      const s = scope();
      await counter(store, s, { ttlMs: 50 })(T0);
      await fold(store, s, { ttlMs: 50 })(T0);
      await new Promise((resolve) => setTimeout(resolve, 120));
      const state = await store.readState(s, 60 * S);
      assert.equal(state.watermark, undefined);
      assert.equal(state.episode, undefined);
    });

    /** The same events in two fresh scopes: one scope batch against the single-event operations one by one. */
    async function sameAsStepwise(input: Omit<ScopeBatchInput, 'scope'>): Promise<void> {
      const batched = await store.runScopeBatch({ ...input, scope: scope() });
      const stepwise = await runScopeBatchStepwise(store, { ...input, scope: scope() });
      assert.deepEqual(batched, stepwise);
      assert.equal(batched.length, input.events.length);
    }
    const episodeLimits = { cooldownMs: 30 * S, ttlMs: 3_600 * S, maxMembers: 10_000, sampleSize: 5, monotone: true };
    const limits = { timespanMs: 60 * S, latenessMs: 300 * S, maxEntries: 10_000, ttlMs: 3_600 * S };
    // Out of order, a repeat, a late event and a gap longer than the cooldown.
    const times = [0, 20, 5, 5, 40, -400, 61, 300, 310, 200, 320].map((t) => T0 + t * S);
    const ids = times.map((_, i) => `e${i % 9}`);

    test('a scope batch gives, event by event, the answers of the single-event operations: event_count', async () => {
      await sameAsStepwise({ kind: 'count', window: { ...limits, condition: { gte: 3 } }, fold: episodeLimits, events: times.map((ts, i) => ({ eventId: ids[i]!, ts })) });
      await sameAsStepwise({
        kind: 'count',
        window: { ...limits, condition: { gte: 2, lt: 4 } },
        fold: { ...episodeLimits, monotone: false },
        events: times.map((ts, i) => ({ eventId: ids[i]!, ts })),
      });
    });

    test('a scope batch gives the answers of the single-event operations: value_count', async () => {
      await sameAsStepwise({
        kind: 'count',
        window: { ...limits, condition: { gte: 2 } },
        fold: episodeLimits,
        events: times.map((ts, i) => ({ eventId: ids[i]!, ts, value: `u${i % 3}` })),
      });
    });

    test('a scope batch gives the answers of the single-event operations: ordered and unordered chains', async () => {
      for (const ordered of [true, false]) {
        await sameAsStepwise({
          kind: 'chain',
          window: { ...limits, stageCount: 2, ordered },
          fold: episodeLimits,
          events: times.map((ts, i) => ({ eventId: ids[i]!, ts, stages: [i % 3 === 2 ? 1 : 0] })),
        });
      }
    });

    test('a scope batch gives the answers of the single-event operations: detection episodes', async () => {
      await sameAsStepwise({ kind: 'fold', fold: { ...episodeLimits, monotone: false }, events: times.map((ts, i) => ({ eventId: ids[i]!, ts })) });
    });

    /** One first_seen call on a fresh rule: `at` is the clock in hours after T0, events are [event id, combination]. */
    const firstSeen = (rule: string, limits: Partial<FirstSeenBatchInput> = {}) => {
      return async (at: number, events: [string, string][]) =>
        store.firstSeenBatch({
          rule,
          now: T0 + at * H,
          learningMs: 24 * H,
          forgetAfterMs: undefined,
          maxValues: 100,
          ...limits,
          events: events.map(([eventId, combination]) => ({ eventId, combination })),
        });
    };

    test('first_seen: nothing is raised during the learning period; after it each new combination is raised once', async () => {
      const run = firstSeen(uniqueName('fs'));
      const first = await run(0, [['e1', 'host=a,user=alice'], ['e2', 'host=a,user=bob']]);
      assert.deepEqual(first.statuses, ['learning', 'learning']);
      assert.equal(first.started, true);
      assert.equal(first.learningStart, T0);
      assert.equal(first.learned, 2);
      const stillLearning = await run(23, [['e3', 'host=a,user=carol'], ['e4', 'host=a,user=alice']]);
      assert.deepEqual(stillLearning.statuses, ['learning', 'known']);
      assert.equal(stillLearning.started, false);
      const after = await run(24, [['e5', 'host=a,user=dave'], ['e6', 'host=a,user=dave'], ['e7', 'host=a,user=carol'], ['e8', 'host=b,user=dave']]);
      assert.deepEqual(after.statuses, ['new', 'known', 'known', 'new'], 'once per combination, also within one batch');
      assert.equal(after.learned, 2);
      assert.equal(after.size, 5);
      const again = await run(30, [['e9', 'host=a,user=dave'], ['e10', 'host=b,user=dave']]);
      assert.deepEqual(again.statuses, ['known', 'known'], 'the same combinations again raise nothing');
    });

    test('first_seen: the learning start is set once, by the first call (an empty one starts it too)', async () => {
      const run = firstSeen(uniqueName('fs'));
      assert.equal((await run(5, [])).started, true);
      const later = await run(10, [['e1', 'v=1']]);
      assert.equal(later.started, false);
      assert.equal(later.learningStart, T0 + 5 * H);
      assert.deepEqual(later.statuses, ['learning']);
      assert.deepEqual((await run(29, [['e2', 'v=2']])).statuses, ['new'], 'learning ends learning_period after the first call');
    });

    test('first_seen: the state reads back without starting anything', async () => {
      const rule = uniqueName('fs');
      assert.deepEqual(await store.readFirstSeen(rule, 'v=1'), { learningStart: undefined, size: 0, lastSeen: undefined });
      const run = firstSeen(rule);
      await run(2, [['e1', 'v=1'], ['e2', 'v=2']]);
      await run(3, [['e3', 'v=2']]);
      assert.deepEqual(await store.readFirstSeen(rule, 'v=1'), { learningStart: T0 + 2 * H, size: 2, lastSeen: T0 + 2 * H });
      assert.deepEqual(await store.readFirstSeen(rule, 'v=2'), { learningStart: T0 + 2 * H, size: 2, lastSeen: T0 + 3 * H });
      assert.equal((await store.readFirstSeen(rule, 'v=3')).lastSeen, undefined);
    });

    test('first_seen: the event that raised a combination is answered "repeat" when it comes again; other events "known"', async () => {
      const run = firstSeen(uniqueName('fs'), { learningMs: 0 });
      assert.deepEqual((await run(0, [['e1', 'v=1']])).statuses, ['new']);
      assert.deepEqual((await run(1, [['e1', 'v=1'], ['e2', 'v=1']])).statuses, ['repeat', 'known']);
      const learned = firstSeen(uniqueName('fs'));
      await learned(0, [['e1', 'v=1']]);
      assert.deepEqual((await learned(30, [['e1', 'v=1']])).statuses, ['known'], 'a value learned silently has nothing to repeat');
    });

    test('first_seen: past max_values the least recently seen combination is evicted, and raised again when seen', async () => {
      const run = firstSeen(uniqueName('fs'), { learningMs: 0, maxValues: 3 });
      await run(0, [['e1', 'v=a']]);
      await run(1, [['e2', 'v=b']]);
      await run(2, [['e3', 'v=c']]);
      await run(3, [['e4', 'v=a']]);
      const fourth = await run(4, [['e5', 'v=d']]);
      assert.deepEqual(fourth.statuses, ['new']);
      assert.equal(fourth.evicted, 1, 'b was the least recently seen (a was seen again at 3h)');
      assert.equal(fourth.size, 3);
      const back = await run(5, [['e6', 'v=b'], ['e7', 'v=a']]);
      assert.deepEqual(back.statuses, ['new', 'known'], 'the evicted value fires again; a kept value does not');
      assert.equal(back.evicted, 1);
      assert.deepEqual((await run(6, [['e2', 'v=b']])).statuses, ['known'], 'a re-raised combination belongs to its new event');
    });

    test('first_seen: a combination unseen for forget_after is forgotten and raised again; the learning period does not restart', async () => {
      const run = firstSeen(uniqueName('fs'), { forgetAfterMs: 48 * H });
      await run(0, [['e1', 'v=a'], ['e2', 'v=b']]);
      await run(40, [['e3', 'v=b']]);
      const later = await run(72, [['e4', 'v=a'], ['e5', 'v=b']]);
      assert.equal(later.forgotten, 1, 'a was last seen 72h ago, b 32h ago');
      assert.deepEqual(later.statuses, ['new', 'known']);
      const quiet = await run(500, [['e6', 'v=c']]);
      assert.equal(quiet.forgotten, 2);
      assert.deepEqual(quiet.statuses, ['new'], 'everything forgotten, yet past learning: new values are raised');
      assert.equal(quiet.learningStart, T0);
    });

    test('check() answers while connected', async () => {
      await store.check();
      assert.equal(typeof store.isConnected(), 'boolean');
    });
  });
}
