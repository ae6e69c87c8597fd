import type { Logger } from 'pino';
import type { AsyncMessage, Channel, Connection } from 'rabbitmq-client';
import { backoffDelay, sleep } from '../backoff.ts';
import { type DeadLetter, deliverBatch, type Outcome } from './delivery-policy.ts';
import type { BatchConsumeOptions, BatchHandler, ConsumerHandle, ConsumerStats, InboundMessage } from './port.ts';

export interface AmqpBatchConsumerDeps {
  connection: Connection;
  logger: Logger;
  options: BatchConsumeOptions;
  handler: BatchHandler;
  /** Declared (or checked) on every new channel before consuming. */
  queueOptions: Parameters<Channel['queueDeclare']>[0];
  toInbound: (raw: AsyncMessage, queue: string) => InboundMessage;
  deadLetter: (message: InboundMessage, letter: DeadLetter) => Promise<void>;
}

interface Buffered {
  raw: AsyncMessage;
  channel: Channel;
}

/**
 * A RabbitMQ consumer that hands deliveries to its handler in batches, on a
 * channel of its own (rabbitmq-client's Consumer settles one message at a
 * time). One batch is in flight at a time and batches follow delivery order, so
 * acking the last delivery tag with `multiple` settles exactly that batch.
 * When the channel closes, the unsettled deliveries return to the queue by
 * themselves and the consumer re-subscribes with backoff.
 */
export class AmqpBatchConsumer implements ConsumerHandle {
  readonly stats: ConsumerStats = { acked: 0, deadLettered: 0, requeued: 0, retries: 0 };
  readonly #deps: AmqpBatchConsumerDeps;
  readonly #size: number;
  readonly #lingerMs: number;
  readonly #closing = new AbortController();
  readonly #loop: Promise<void>;
  #buffer: Buffered[] = [];
  #channel: Channel | undefined;
  #wake: (() => void) | undefined;

  constructor(deps: AmqpBatchConsumerDeps) {
    this.#deps = deps;
    this.#size = Math.max(1, deps.options.batchSize);
    this.#lingerMs = deps.options.batchLingerMs ?? 5;
    this.#loop = this.#run();
  }

  async close(): Promise<void> {
    this.#closing.abort();
    this.#notify();
    await this.#loop;
    const channel = this.#channel;
    this.#channel = undefined;
    this.#buffer = [];
    // Closing the channel returns every delivery not yet settled to the queue.
    if (channel?.active) await channel.close().catch(() => undefined);
  }

  async #run(): Promise<void> {
    const signal = this.#closing.signal;
    while (!signal.aborted) {
      const channel = await this.#ensureChannel();
      if (channel === undefined) break;
      if (this.#buffer.length === 0) {
        await this.#waitFor(undefined);
        continue;
      }
      if (this.#buffer.length < this.#size) await this.#waitFor(this.#lingerMs);
      if (signal.aborted) break;
      const batch = this.#buffer.splice(0, this.#size).filter((entry) => entry.channel === this.#channel && entry.channel.active);
      if (batch.length > 0) await this.#process(batch);
    }
  }

  async #process(batch: Buffered[]): Promise<void> {
    const { options, handler, toInbound, deadLetter, logger } = this.#deps;
    const messages = batch.map((entry) => toInbound(entry.raw, options.queue));
    let outcomes: Outcome[];
    try {
      outcomes = await deliverBatch(messages, handler, options, {
        signal: this.#closing.signal,
        othersWaiting: () => this.#buffer.length > 0,
        deadLetter,
        onRetry: (message, error, attempt) => {
          this.stats.retries++;
          logger.warn({ err: error, message_id: message.messageId, attempt }, 'handler failed; retrying');
        },
      });
    } catch (error) {
      // Dead-lettering itself failed: return the whole batch, as a lost ack would.
      logger.error({ err: error, queue: options.queue }, 'batch delivery failed; requeueing');
      outcomes = batch.map(() => 'requeue');
    }
    this.#settle(batch, outcomes);
  }

  #settle(batch: Buffered[], outcomes: readonly Outcome[]): void {
    const channel = batch[0]!.channel;
    try {
      if (!outcomes.includes('requeue')) {
        channel.basicAck({ deliveryTag: batch.at(-1)!.raw.deliveryTag, multiple: true });
      } else {
        batch.forEach((entry, index) => {
          if (outcomes[index] === 'requeue') channel.basicNack({ deliveryTag: entry.raw.deliveryTag, requeue: true });
          else channel.basicAck({ deliveryTag: entry.raw.deliveryTag });
        });
      }
    } catch (error) {
      // The channel is gone: the broker redelivers the batch, and every effect is idempotent.
      this.#deps.logger.warn({ err: error, queue: this.#deps.options.queue }, 'could not settle a batch; it will be redelivered');
      return;
    }
    for (const outcome of outcomes) {
      if (outcome === 'requeue') this.stats.requeued++;
      else if (outcome === 'dead-letter') this.stats.deadLettered++;
      else this.stats.acked++;
    }
  }

  async #ensureChannel(): Promise<Channel | undefined> {
    const signal = this.#closing.signal;
    for (let attempt = 0; !signal.aborted; attempt++) {
      if (this.#channel?.active) return this.#channel;
      try {
        this.#channel = await this.#subscribe();
        return this.#channel;
      } catch (error) {
        if (attempt === 0) this.#deps.logger.warn({ err: error, queue: this.#deps.options.queue }, 'batch consumer setup failed; retrying');
        await sleep(backoffDelay(attempt, { initialMs: 250, maxMs: 15_000 }), signal);
      }
    }
    return undefined;
  }

  async #subscribe(): Promise<Channel> {
    const { connection, options, queueOptions } = this.#deps;
    const channel = await connection.acquire();
    channel.on('close', () => {
      this.#buffer = this.#buffer.filter((entry) => entry.channel !== channel);
      this.#notify();
    });
    try {
      await channel.queueDeclare(queueOptions);
      await channel.basicQos({ prefetchCount: Math.max(options.prefetch, this.#size) });
      await channel.basicConsume({ queue: options.queue }, (raw) => {
        if (this.#closing.signal.aborted) return;
        this.#buffer.push({ raw, channel });
        if (this.#buffer.length === 1 || this.#buffer.length >= this.#size) this.#notify();
      });
    } catch (error) {
      await channel.close().catch(() => undefined);
      throw error;
    }
    return channel;
  }

  /** Waits for the next notification (first delivery, full batch, channel closed, close()) or the timeout. */
  #waitFor(timeoutMs: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.#closing.signal.aborted) return resolve();
      const timer = timeoutMs === undefined ? undefined : setTimeout(done, timeoutMs);
      const wake = (): void => done();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = wake;
    }).finally(() => {
      this.#wake = undefined;
    });
  }

  #notify(): void {
    this.#wake?.();
  }
}
