import { sleep as defaultSleep } from '@auditflow/common';

export type Clock = () => number;
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface RateSchedulerOptions {
  /** Runs per second at a given instant (ms since epoch); <= 0 pauses the schedule. */
  rate: (atMs: number) => number;
  /** One run. Its errors are reported through onError and never stop the schedule. */
  task: () => Promise<void>;
  /** @default Date.now */
  clock?: Clock;
  /** Must resolve early when the signal aborts. @default the common sleep */
  sleep?: Sleep;
  /** Runs allowed to be unfinished at once; the schedule waits for a free slot. @default 32 */
  maxInFlight?: number;
  /** Delay of the first run. @default 0 */
  firstDelayMs?: number;
  /**
   * When the schedule falls further behind than this (a stalled event loop, a
   * slow broker holding every slot), missed runs are skipped instead of being
   * fired in one burst. @default 1000
   */
  maxLagMs?: number;
  onError?: (error: unknown) => void;
  onSkip?: (missed: number) => void;
}

export interface SchedulerStats {
  started: number;
  failed: number;
  skipped: number;
  inFlight: number;
}

/** How long a paused schedule (rate <= 0) waits before asking the rate again. */
const PAUSE_RECHECK_MS = 1000;

/**
 * Runs a task at a rate without drift: each due time is the previous due time
 * plus one period, never "now plus a period", so the time a run takes does not
 * stretch the schedule (the original slept after each publish). It sleeps until
 * the next due time (no busy loop), bounds concurrent runs, and stops cleanly:
 * stop() ends the loop and waits for the runs in flight.
 */
export class RateScheduler {
  readonly #options: RateSchedulerOptions;
  readonly #clock: Clock;
  readonly #sleep: Sleep;
  readonly #maxInFlight: number;
  readonly #maxLagMs: number;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  readonly #stats: SchedulerStats = { started: 0, failed: 0, skipped: 0, inFlight: 0 };
  #loop: Promise<void> | undefined;

  constructor(options: RateSchedulerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#maxInFlight = Math.max(1, options.maxInFlight ?? 32);
    this.#maxLagMs = options.maxLagMs ?? 1000;
  }

  get stats(): Readonly<SchedulerStats> {
    return { ...this.#stats, inFlight: this.#inFlight.size };
  }

  get running(): boolean {
    return this.#loop !== undefined && !this.#abort.signal.aborted;
  }

  start(): void {
    if (this.#loop || this.#abort.signal.aborted) return;
    this.#loop = this.#run();
  }

  /** Ends the schedule and waits for every run in flight; safe to call more than once. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    let due = this.#clock() + (this.#options.firstDelayMs ?? 0);
    while (!signal.aborted) {
      const wait = due - this.#clock();
      if (wait > 0) {
        await this.#sleep(wait, signal);
        continue;
      }
      const rate = this.#options.rate(due);
      if (!(rate > 0)) {
        due = this.#clock() + PAUSE_RECHECK_MS;
        continue;
      }
      const period = 1000 / rate;
      const lag = -wait;
      if (lag > this.#maxLagMs) {
        const missed = Math.floor(lag / period);
        this.#stats.skipped += missed;
        this.#options.onSkip?.(missed);
        due += missed * period;
      }
      while (this.#inFlight.size >= this.#maxInFlight && !signal.aborted) {
        await Promise.race(this.#inFlight);
      }
      if (signal.aborted) break;
      this.#launch();
      due += period;
    }
  }

  #launch(): void {
    this.#stats.started++;
    // Started synchronously, so a run begins at its due time, not a tick later.
    let task: Promise<void>;
    try {
      task = Promise.resolve(this.#options.task());
    } catch (error) {
      task = Promise.reject(error);
    }
    const run: Promise<void> = task
      .catch((error: unknown) => {
        this.#stats.failed++;
        this.#options.onError?.(error);
      })
      .finally(() => {
        this.#inFlight.delete(run);
      });
    this.#inFlight.add(run);
  }
}
