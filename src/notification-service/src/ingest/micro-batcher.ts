export interface MicroBatcherOptions<I, O> {
  /** Writes one batch; resolves to one result per item, in order. */
  flush: (items: I[]) => Promise<O[]>;
  /** Flush as soon as this many items wait. */
  maxItems: number;
  /**
   * With nothing being written, a partial batch goes out this long after its first item arrived;
   * while batches are in flight it waits for one of them to finish (or for maxItems).
   */
  maxDelayMs: number;
  /** Batches written at the same time (a pipeline, so the next batch fills while one commits). @default 2 */
  maxConcurrent?: number;
  /** Called with the size of every batch flushed. */
  onFlush?: (size: number) => void;
}

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects items submitted by concurrent callers into batches. Each caller
 * awaits the result of its own item, so a message handler acks only after its
 * batch committed; a failed batch rejects every caller in it.
 */
export class MicroBatcher<I, O> {
  readonly #options: MicroBatcherOptions<I, O>;
  #waiting: Pending<I, O>[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running = 0;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(options: MicroBatcherOptions<I, O>) {
    if (options.maxItems < 1) throw new RangeError('maxItems must be at least 1');
    this.#options = options;
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (this.#waiting.length >= this.#options.maxItems) this.#drain();
      else if (this.#running === 0) this.#timer ??= setTimeout(() => this.#onTimer(), this.#options.maxDelayMs);
    });
  }

  get pending(): number {
    return this.#waiting.length;
  }

  /** Writes everything submitted so far and waits for every batch in flight. */
  async flushAll(): Promise<void> {
    while (this.#waiting.length > 0 || this.#inFlight.size > 0) {
      this.#drain(true);
      await Promise.allSettled([...this.#inFlight]);
    }
  }

  #onTimer(): void {
    this.#timer = undefined;
    this.#drain();
  }

  /**
   * Starts full batches while a slot is free. A partial batch goes out only when nothing is being
   * written (or on flushAll): with a batch in flight its completion drains again anyway, and the
   * items arriving meanwhile fill one batch instead of trickling out as many small transactions.
   * Under load, flushing whatever had come in whenever a slot freed up made the average batch
   * under half of maxItems and the database pay a commit for every few rows.
   */
  #drain(force = false): void {
    const max = this.#options.maxConcurrent ?? 2;
    while (this.#running < max && this.#waiting.length > 0) {
      if (this.#waiting.length < this.#options.maxItems && !force && this.#running > 0) break;
      const batch = this.#waiting.splice(0, this.#options.maxItems);
      this.#start(batch);
    }
    if (this.#waiting.length === 0 && this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    } else if (this.#waiting.length > 0 && !this.#timer && this.#running === 0) {
      this.#timer = setTimeout(() => this.#onTimer(), this.#options.maxDelayMs);
    }
  }

  #start(batch: Pending<I, O>[]): void {
    this.#running++;
    this.#options.onFlush?.(batch.length);
    const task = this.#options
      .flush(batch.map((p) => p.item))
      .then(
        (results) => {
          batch.forEach((p, i) => {
            if (i < results.length) p.resolve(results[i] as O);
            else p.reject(new Error('batch writer returned fewer results than items'));
          });
        },
        (error: unknown) => {
          for (const p of batch) p.reject(error);
        },
      )
      .finally(() => {
        this.#running--;
        this.#inFlight.delete(task);
        if (this.#waiting.length > 0) this.#drain();
      });
    this.#inFlight.add(task);
  }
}
