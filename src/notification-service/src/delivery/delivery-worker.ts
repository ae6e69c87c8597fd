import { createHash, randomUUID } from 'node:crypto';
import { backoffDelay, type Logger, sleep } from '@auditflow/common';
import type { NotificationMetrics } from '../metrics.ts';
import type { SilenceStore } from '../silences/silence-store.ts';
import type { ClaimedDelivery, OutboxStore } from '../store/outbox-store.ts';
import { alertLabels } from './alert-labels.ts';
import { compileMatcher, matchesAll } from './matchers.ts';
import { type AlertRow, DeliveryError, type Notification, type NotificationItem } from './outputs/notification.ts';
import type { SenderSet } from './outputs/senders.ts';
import type { DeliveryPolicy } from './outputs-config.ts';

export interface DeliveryWorkerOptions {
  outbox: OutboxStore;
  silences: SilenceStore;
  senders: SenderSet;
  policy: DeliveryPolicy;
  logger: Logger;
  metrics: NotificationMetrics;
  /** How long a claim is ours; must exceed the longest send (an output's timeout). */
  leaseMs: number;
  /** Idle re-check of the outbox, for rows other replicas enqueued and retries coming due. */
  pollMs: number;
  /** Rows claimed per round. @default 100 */
  batchSize?: number;
  /** Identifies this worker's leases. @default a new uuid */
  owner?: string;
}

interface Group {
  output: string;
  groupKey: string;
  rows: ClaimedDelivery[];
  items: NotificationItem[];
}

/**
 * Sends what the outbox holds. Each round claims due rows (a lease under FOR UPDATE SKIP LOCKED,
 * so replicas never hold the same row), drops the silenced ones, sends the rest one message per
 * output and group, and settles each row: sent, or back to pending with exponential backoff, or
 * failed for good after the last attempt with its last error kept.
 */
export class DeliveryWorker {
  readonly #options: DeliveryWorkerOptions;
  readonly #owner: string;
  readonly #stopping = new AbortController();
  /** Sends in flight are let finish on stop (each is bounded by its output's timeout). */
  readonly #sendSignal = new AbortController().signal;
  #wake: (() => void) | undefined;
  #woken = false;
  #loop: Promise<void> | undefined;

  constructor(options: DeliveryWorkerOptions) {
    this.#options = options;
    this.#owner = options.owner ?? randomUUID();
  }

  get owner(): string {
    return this.#owner;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Something was enqueued here: look now rather than at the next poll. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Stops claiming and waits for the sends in flight to be settled. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const { logger, pollMs } = this.#options;
    let failures = 0;
    while (!this.#stopping.signal.aborted) {
      let claimed = 0;
      try {
        claimed = await this.runOnce();
        failures = 0;
      } catch (error) {
        logger.warn({ err: error, attempt: failures }, 'delivery round failed; retrying');
        await sleep(backoffDelay(failures++, { initialMs: 200, maxMs: 10_000 }), this.#stopping.signal);
        continue;
      }
      if (claimed === 0) await this.#idle(pollMs);
    }
  }

  #idle(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** One round; resolves to the number of rows claimed. Public for tests that step the worker. */
  async runOnce(): Promise<number> {
    const { outbox, silences, leaseMs, batchSize = 100 } = this.#options;
    const rows = await outbox.claim(batchSize, this.#owner, leaseMs);
    if (rows.length === 0) return 0;
    const active = (await silences.active()).map((silence) => ({ id: silence.id, matchers: silence.matchers.map(compileMatcher) }));
    const groups = new Map<string, Group>();
    for (const row of rows) {
      const alert = JSON.parse(row.json) as AlertRow;
      const silencedBy = active.filter((silence) => matchesAll(silence.matchers, alertLabels(alert))).map((silence) => silence.id);
      if (silencedBy.length > 0) {
        await outbox.markSilenced(row.id, this.#owner, silencedBy);
        this.#options.metrics.deliveries.inc({ output: row.output, outcome: 'silenced' });
        continue;
      }
      const key = `${row.output}\u0000${row.group_key}`;
      let group = groups.get(key);
      if (group === undefined) {
        group = { output: row.output, groupKey: row.group_key, rows: [], items: [] };
        groups.set(key, group);
      }
      group.rows.push(row);
      group.items.push({ deliveryId: row.id, kind: row.kind, alert });
    }
    const sent = (await Promise.all([...groups.values()].map((group) => this.#deliver(group)))).filter((group) => group !== undefined);
    // One statement settles every message of the round that went out.
    const ids = sent.flatMap((group) => group.rows.map((row) => row.id));
    if (ids.length === 0) return rows.length;
    const settled = await outbox.markSent(ids, this.#owner);
    for (const group of sent) this.#options.metrics.deliveries.inc({ output: group.output, outcome: 'sent' }, group.rows.length);
    if (settled < ids.length) this.#options.logger.warn({ deliveries: ids.length, settled }, 'a lease ran out while sending');
    return rows.length;
  }

  /** Sends one group's message; resolves to the group when it went out, undefined when it failed (already settled). */
  async #deliver(group: Group): Promise<Group | undefined> {
    const { outbox, senders, logger, metrics, policy } = this.#options;
    const ids = group.rows.map((row) => row.id);
    const sender = senders.get(group.output);
    const notification: Notification = { id: notificationId(ids), groupKey: group.groupKey, items: group.items };
    try {
      if (sender === undefined) throw new DeliveryError(`output "${group.output}" is not configured any more`, true);
      await sender.send(notification, this.#sendSignal);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const permanent = error instanceof DeliveryError && error.permanent;
      const attempts = Math.max(...group.rows.map((row) => row.attempts));
      const retryIn = backoffDelay(attempts - 1, { initialMs: policy.backoffInitialMs, maxMs: policy.backoffMaxMs });
      const failed = await outbox.markFailed(ids, this.#owner, retryIn, message, permanent);
      if (failed.length > 0) metrics.deliveries.inc({ output: group.output, outcome: 'failed' }, failed.length);
      if (ids.length > failed.length) metrics.deliveries.inc({ output: group.output, outcome: 'retried' }, ids.length - failed.length);
      logger.warn(
        { output: group.output, group_key: group.groupKey, deliveries: ids.length, failed: failed.length, attempts, err: error },
        failed.length > 0 ? 'delivery failed for good' : 'delivery failed; will retry',
      );
      return undefined;
    }
    if (logger.isLevelEnabled('debug')) logger.debug({ output: group.output, notification: notification.id, alerts: ids.length }, 'notification sent');
    return group;
  }
}

/** One delivery: its own id; several: a digest of their ids, the same on every retry of that set. */
function notificationId(ids: readonly string[]): string {
  if (ids.length === 1) return ids[0]!;
  const hex = createHash('sha256').update([...ids].sort().join(',')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
