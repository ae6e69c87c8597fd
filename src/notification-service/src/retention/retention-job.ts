import type { Logger } from '@auditflow/common';
import type { NotificationMetrics } from '../metrics.ts';
import type { AlertStore } from '../store/alert-store.ts';

export interface RetentionOptions {
  store: AlertStore;
  logger: Logger;
  metrics: NotificationMetrics;
  /** Alerts whose timestamp is older than this are purged; 0 keeps everything. */
  retentionDays: number;
  intervalSeconds: number;
  /** Rows deleted per statement, so a large purge never holds long locks. @default 1000 */
  batchSize?: number;
  now?: () => Date;
}

/**
 * Periodic purge of old alerts (their history goes with them, ON DELETE
 * CASCADE). Runs never overlap; a failed run is logged and the next tick tries again.
 */
export class RetentionJob {
  readonly #options: RetentionOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #stopped = false;

  constructor(options: RetentionOptions) {
    this.#options = options;
  }

  get enabled(): boolean {
    return this.#options.retentionDays > 0;
  }

  start(): void {
    if (!this.enabled || this.#timer) return;
    this.#timer = setInterval(() => {
      this.runOnce().catch((error: unknown) => this.#options.logger.warn({ err: error }, 'retention run failed'));
    }, this.#options.intervalSeconds * 1000);
    this.#timer.unref();
  }

  /** Purges everything past the age now, batch by batch; resolves to the number of alerts deleted. */
  runOnce(): Promise<number> {
    this.#running ??= this.#purge().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  async #purge(): Promise<number> {
    const { store, metrics, logger } = this.#options;
    if (!this.enabled) return 0;
    const now = this.#options.now?.() ?? new Date();
    const cutoff = new Date(now.getTime() - this.#options.retentionDays * 86_400_000);
    const batchSize = this.#options.batchSize ?? 1000;
    let total = 0;
    for (;;) {
      const deleted = await store.purgeOlderThan(cutoff, batchSize);
      total += deleted;
      metrics.purged.inc(deleted);
      if (deleted < batchSize || this.#stopped) break;
    }
    if (total > 0) logger.info({ deleted: total, cutoff: cutoff.toISOString() }, 'purged old alerts');
    return total;
  }
}
