/**
 * A virtual clock and a sleep that advances it instead of waiting, so
 * schedules can be checked to the millisecond without real timers.
 */
export class FakeTime {
  now: number;
  readonly sleeps: number[] = [];

  constructor(start: number) {
    this.now = start;
  }

  clock = (): number => this.now;

  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted) return;
    this.sleeps.push(ms);
    this.now += ms;
    // Yield so the tasks the scheduler launched can make progress.
    await new Promise<void>((resolve) => setImmediate(resolve));
  };
}
