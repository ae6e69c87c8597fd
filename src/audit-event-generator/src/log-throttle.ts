/**
 * Lets one log line through per interval and counts what it held back, so a
 * broker outage at 100 events/s produces a line every few seconds, not 100.
 */
export class LogThrottle {
  readonly #intervalMs: number;
  readonly #clock: () => number;
  #last = Number.NEGATIVE_INFINITY;
  #suppressed = 0;

  constructor(options: { intervalMs: number; clock?: () => number }) {
    this.#intervalMs = options.intervalMs;
    this.#clock = options.clock ?? Date.now;
  }

  /** Calls `log` with the number of calls suppressed since the last line, or does nothing. */
  run(log: (suppressed: number) => void): void {
    const now = this.#clock();
    if (now - this.#last < this.#intervalMs) {
      this.#suppressed++;
      return;
    }
    const suppressed = this.#suppressed;
    this.#last = now;
    this.#suppressed = 0;
    log(suppressed);
  }
}
