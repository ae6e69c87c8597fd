import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RateScheduler } from '../src/index.ts';
import { FakeTime } from './fake-time.ts';

const START = Date.parse('2026-06-10T12:00:00.000Z');

/** Runs a scheduler until `count` tasks started, then stops it. */
async function collect(
  time: FakeTime,
  options: Partial<ConstructorParameters<typeof RateScheduler>[0]> & { rate: (at: number) => number },
  count: number,
  taskMs = 0,
): Promise<{ starts: number[]; scheduler: RateScheduler }> {
  const starts: number[] = [];
  let done: () => void = () => undefined;
  const enough = new Promise<void>((resolve) => {
    done = resolve;
  });
  const scheduler = new RateScheduler({
    clock: time.clock,
    sleep: time.sleep,
    task: async () => {
      starts.push(time.now);
      if (starts.length === count) done();
      // A slow publish: the clock moves while the task runs.
      time.now += taskMs;
    },
    ...options,
  });
  scheduler.start();
  await enough;
  await scheduler.stop();
  return { starts: starts.slice(0, count), scheduler };
}

describe('RateScheduler', () => {
  test('fires exactly on the period, without drift, even when each run takes time', async () => {
    const time = new FakeTime(START);
    const { starts } = await collect(time, { rate: () => 4 }, 40, 100);
    assert.deepEqual(
      starts,
      Array.from({ length: 40 }, (_, i) => START + i * 250),
    );
  });

  test('fractional rates: 0.5 events per second is one every 2 s', async () => {
    const time = new FakeTime(START);
    const { starts } = await collect(time, { rate: () => 0.5 }, 5);
    assert.deepEqual(starts, [0, 2000, 4000, 6000, 8000].map((d) => START + d));
  });

  test('the first run waits for firstDelayMs', async () => {
    const time = new FakeTime(START);
    const { starts } = await collect(time, { rate: () => 1 / 45, firstDelayMs: 5000 }, 3);
    assert.deepEqual(starts, [5000, 50_000, 95_000].map((d) => START + d));
  });

  test('sleeps between runs instead of spinning', async () => {
    const time = new FakeTime(START);
    await collect(time, { rate: () => 10 }, 50);
    assert.ok(time.sleeps.length >= 49 && time.sleeps.length <= 51, `${time.sleeps.length} sleeps`);
    assert.ok(time.sleeps.every((ms) => ms > 0));
  });

  test('the rate may change with time (the time-of-day profile)', async () => {
    const time = new FakeTime(START);
    // 1/s for the first 5 s, then 2/s.
    const { starts } = await collect(time, { rate: (at) => (at < START + 5000 ? 1 : 2) }, 8);
    assert.deepEqual(starts, [0, 1000, 2000, 3000, 4000, 5000, 5500, 6000].map((d) => START + d));
  });

  test('a failing task is counted and reported, and the schedule keeps going', async () => {
    const time = new FakeTime(START);
    const errors: unknown[] = [];
    let runs = 0;
    let done: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => {
      done = resolve;
    });
    const scheduler = new RateScheduler({
      rate: () => 1,
      clock: time.clock,
      sleep: time.sleep,
      task: async () => {
        runs++;
        if (runs === 6) done();
        if (runs % 2 === 0) throw new Error(`boom ${runs}`);
      },
      onError: (error) => errors.push(error),
    });
    scheduler.start();
    await enough;
    await scheduler.stop();
    assert.ok(runs >= 6);
    assert.equal(scheduler.stats.failed, errors.length);
    assert.ok(errors.length >= 3);
  });

  test('never more than maxInFlight unfinished runs; the schedule waits for a slot', async () => {
    const time = new FakeTime(START);
    const pending: (() => void)[] = [];
    let concurrent = 0;
    let peak = 0;
    const scheduler = new RateScheduler({
      rate: () => 100,
      clock: time.clock,
      sleep: time.sleep,
      maxInFlight: 3,
      maxLagMs: Number.POSITIVE_INFINITY,
      task: () =>
        new Promise<void>((resolve) => {
          concurrent++;
          peak = Math.max(peak, concurrent);
          pending.push(() => {
            concurrent--;
            resolve();
          });
        }),
    });
    scheduler.start();
    for (let round = 0; round < 10; round++) {
      while (pending.length < 3) await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(scheduler.stats.inFlight, 3);
      for (const release of pending.splice(0)) release();
    }
    const stopping = scheduler.stop();
    // Release whatever started meanwhile so stop() can drain.
    while (scheduler.stats.inFlight > 0) {
      for (const release of pending.splice(0)) release();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await stopping;
    assert.equal(peak, 3);
  });

  test('after a stall longer than maxLagMs, missed runs are skipped, not burst', async () => {
    const time = new FakeTime(START);
    const skipped: number[] = [];
    const starts: number[] = [];
    let done: () => void = () => undefined;
    const enough = new Promise<void>((resolve) => {
      done = resolve;
    });
    const scheduler = new RateScheduler({
      rate: () => 10,
      clock: time.clock,
      sleep: time.sleep,
      maxLagMs: 1000,
      onSkip: (missed) => skipped.push(missed),
      task: async () => {
        starts.push(time.now);
        // The third run stalls the process for 5 s.
        if (starts.length === 3) time.now += 5000;
        if (starts.length === 8) done();
      },
    });
    scheduler.start();
    await enough;
    await scheduler.stop();
    assert.equal(skipped.length, 1);
    assert.ok(skipped[0]! >= 45 && skipped[0]! <= 50, `skipped ${skipped[0]}`);
    // After the stall the schedule resumes at the normal period.
    const after = starts.slice(4);
    for (let i = 1; i < after.length; i++) assert.equal(after[i]! - after[i - 1]!, 100);
  });

  test('stop() ends the loop, waits for in-flight runs and is idempotent', async () => {
    let finished = 0;
    const scheduler = new RateScheduler({
      rate: () => 1000,
      task: async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        finished++;
      },
    });
    scheduler.start();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await Promise.all([scheduler.stop(), scheduler.stop()]);
    assert.equal(scheduler.running, false);
    const { started, inFlight } = scheduler.stats;
    assert.equal(inFlight, 0);
    assert.equal(finished, started, 'every started run finished before stop() resolved');
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(scheduler.stats.started, started, 'nothing starts after stop');
  });

  test('a paused rate (0) runs nothing', async () => {
    const time = new FakeTime(START);
    let runs = 0;
    const scheduler = new RateScheduler({
      rate: () => 0,
      clock: time.clock,
      sleep: time.sleep,
      task: async () => {
        runs++;
      },
    });
    scheduler.start();
    while (time.now < START + 60_000) await new Promise<void>((resolve) => setImmediate(resolve));
    await scheduler.stop();
    assert.equal(runs, 0);
  });
});

describe('LogThrottle', () => {
  test('one line per interval, reporting how many were held back', async () => {
    const { LogThrottle } = await import('../src/log-throttle.ts');
    let now = 0;
    const throttle = new LogThrottle({ intervalMs: 10_000, clock: () => now });
    const lines: number[] = [];
    for (let i = 0; i < 5; i++) throttle.run((suppressed) => lines.push(suppressed));
    now = 9_999;
    throttle.run((suppressed) => lines.push(suppressed));
    now = 10_000;
    throttle.run((suppressed) => lines.push(suppressed));
    assert.deepEqual(lines, [0, 5]);
  });
});
