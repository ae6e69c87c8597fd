import type { Logger } from 'pino';
import { sleep } from '../backoff.ts';
import { deadLetterHeaders, deliver, deliverBatch, type PolicyHooks } from './delivery-policy.ts';
import {
  type BatchConsumeOptions,
  type BatchHandler,
  type ConsumeOptions,
  type ConsumerHandle,
  type ConsumerStats,
  deadLetterQueueOf,
  encodeBody,
  type InboundMessage,
  type MessageBroker,
  type MessageHandler,
  type OutboundMessage,
} from './port.ts';

interface Stored {
  body: Buffer;
  messageId: string | undefined;
  correlationId: string | undefined;
  headers: Record<string, unknown>;
  deliveries: number;
}

interface Subscriber {
  options: ConsumeOptions;
  /** Set for single-message consumers. */
  handler?: MessageHandler;
  /** Set for batch consumers: one batch in flight, short batches linger. */
  batch?: { size: number; lingerMs: number; handler: BatchHandler; timer?: NodeJS.Timeout; due: boolean };
  inFlight: Set<Promise<void>>;
  closed: boolean;
  closing: AbortController;
  stats: ConsumerStats;
}

interface Queue {
  ready: Stored[];
  subscribers: Subscriber[];
  next: number;
}

/**
 * In-process broker for the all-in-one mode. It keeps RabbitMQ's delivery
 * contract (prefetch, ack, requeue at the head, redelivery counts,
 * dead-lettering through the shared policy); messages live only in memory, so
 * shutdown drains the queues before the consumers stop.
 */
export class MemoryBroker implements MessageBroker {
  readonly kind = 'memory' as const;
  readonly #queues = new Map<string, Queue>();
  readonly #logger: Logger;
  #closed = false;

  constructor(options: { logger: Logger }) {
    this.#logger = options.logger;
  }

  isConnected(): boolean {
    return !this.#closed;
  }

  onConnectionChange(): void {
    // The in-process broker never disconnects.
  }

  async declareQueues(queues: readonly string[]): Promise<void> {
    for (const queue of queues) {
      this.#queue(queue);
      this.#queue(`${queue}.dlq`);
    }
  }

  async publish(queue: string, message: OutboundMessage): Promise<void> {
    if (this.#closed) throw new Error('broker is closed');
    const target = this.#queue(queue);
    target.ready.push({
      body: encodeBody(message.body),
      messageId: message.messageId,
      correlationId: message.correlationId,
      headers: { ...message.headers },
      deliveries: 0,
    });
    this.#dispatch(queue);
  }

  consume(options: ConsumeOptions, handler: MessageHandler): ConsumerHandle {
    return this.#subscribe(options, handler, undefined);
  }

  consumeBatch(options: BatchConsumeOptions, handler: BatchHandler): ConsumerHandle {
    const size = Math.max(1, options.batchSize);
    return this.#subscribe(options, undefined, { size, lingerMs: options.batchLingerMs ?? 5, handler, due: false });
  }

  #subscribe(options: ConsumeOptions, handler: MessageHandler | undefined, batch: Subscriber['batch']): ConsumerHandle {
    const subscriber: Subscriber = {
      options,
      ...(handler ? { handler } : {}),
      ...(batch ? { batch } : {}),
      inFlight: new Set(),
      closed: false,
      closing: new AbortController(),
      stats: { acked: 0, deadLettered: 0, requeued: 0, retries: 0 },
    };
    this.#queue(options.queue).subscribers.push(subscriber);
    queueMicrotask(() => this.#dispatch(options.queue));
    return {
      stats: subscriber.stats,
      close: async () => {
        subscriber.closed = true;
        subscriber.closing.abort();
        clearTimeout(subscriber.batch?.timer);
        const queue = this.#queue(options.queue);
        queue.subscribers = queue.subscribers.filter((s) => s !== subscriber);
        await Promise.allSettled([...subscriber.inFlight]);
      },
    };
  }

  async check(): Promise<void> {
    if (this.#closed) throw new Error('in-process broker is closed');
  }

  /** Number of messages waiting (not in flight) in a queue. */
  depth(queue: string): number {
    return this.#queues.get(queue)?.ready.length ?? 0;
  }

  /** Resolves when no queue in `queues` has ready or in-flight messages, or after the timeout. */
  async waitIdle(queues: readonly string[], timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const busy = queues.some((name) => {
        const queue = this.#queues.get(name);
        return queue !== undefined && (queue.ready.length > 0 || queue.subscribers.some((s) => s.inFlight.size > 0));
      });
      if (!busy) return true;
      await sleep(20);
    }
    return false;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = { ready: [], subscribers: [], next: 0 };
      this.#queues.set(name, queue);
    }
    return queue;
  }

  #dispatch(name: string): void {
    const queue = this.#queue(name);
    // Round-robin over consumers with free prefetch slots, as RabbitMQ does.
    while (queue.ready.length > 0) {
      const free = queue.subscribers.filter((s) => !s.closed && hasRoom(s));
      if (free.length === 0) return;
      const subscriber = free[queue.next++ % free.length]!;
      if (subscriber.batch) this.#takeBatch(name, queue, subscriber, subscriber.batch);
      else if (subscriber.handler) this.#run(name, subscriber, subscriber.handler, queue.ready.shift()!);
    }
  }

  /** Hands a full batch over at once; a short one after lingering, so the messages of one moment share a batch. */
  #takeBatch(name: string, queue: Queue, subscriber: Subscriber, batch: NonNullable<Subscriber['batch']>): void {
    if (queue.ready.length < batch.size && !batch.due) {
      batch.timer = setTimeout(() => {
        batch.timer = undefined;
        batch.due = true;
        this.#dispatch(name);
      }, batch.lingerMs);
      return;
    }
    batch.due = false;
    this.#runBatch(name, subscriber, batch.handler, queue.ready.splice(0, batch.size));
  }

  #runBatch(queueName: string, subscriber: Subscriber, handler: BatchHandler, stored: Stored[]): void {
    const messages = stored.map((entry) => this.#toInbound(queueName, entry));
    const hooks = { ...this.#hooks(subscriber), othersWaiting: () => this.#queue(queueName).ready.length > 0 };
    const task = deliverBatch(messages, handler, subscriber.options, hooks).then(
      (outcomes) => {
        const requeued: Stored[] = [];
        outcomes.forEach((outcome, index) => {
          if (outcome === 'requeue') requeued.push(stored[index]!);
          else this.#count(subscriber, outcome);
        });
        subscriber.stats.requeued += requeued.length;
        this.#queue(queueName).ready.unshift(...requeued);
      },
      (error: unknown) => {
        this.#logger.error({ err: error }, 'batch delivery failed; requeueing');
        subscriber.stats.requeued += stored.length;
        this.#queue(queueName).ready.unshift(...stored);
      },
    );
    this.#track(queueName, subscriber, task);
  }

  #toInbound(queueName: string, stored: Stored): InboundMessage {
    stored.deliveries++;
    return {
      body: stored.body,
      messageId: stored.messageId,
      correlationId: stored.correlationId,
      headers: stored.headers,
      redelivered: stored.deliveries > 1,
      deliveryCount: stored.deliveries,
      queue: queueName,
    };
  }

  #hooks(subscriber: Subscriber): PolicyHooks {
    const dlq = deadLetterQueueOf(subscriber.options);
    return {
      signal: subscriber.closing.signal,
      deadLetter: async (msg, letter) => {
        this.#logger.warn({ queue: msg.queue, message_id: msg.messageId, code: letter.code }, 'dead-lettering message');
        await this.publish(dlq, {
          body: msg.body,
          messageId: msg.messageId,
          correlationId: msg.correlationId,
          headers: deadLetterHeaders(msg, letter),
        });
      },
      onRetry: () => {
        subscriber.stats.retries++;
      },
    };
  }

  #count(subscriber: Subscriber, outcome: 'ack' | 'dead-letter'): void {
    if (outcome === 'dead-letter') subscriber.stats.deadLettered++;
    else subscriber.stats.acked++;
  }

  #track(queueName: string, subscriber: Subscriber, task: Promise<void>): void {
    subscriber.inFlight.add(task);
    task.finally(() => {
      subscriber.inFlight.delete(task);
      setImmediate(() => this.#dispatch(queueName));
    });
  }

  #run(queueName: string, subscriber: Subscriber, handler: MessageHandler, stored: Stored): void {
    const message = this.#toInbound(queueName, stored);
    const task = deliver(message, handler, subscriber.options, this.#hooks(subscriber)).then(
      (outcome) => {
        if (outcome === 'requeue') {
          subscriber.stats.requeued++;
          this.#queue(queueName).ready.unshift(stored);
        } else this.#count(subscriber, outcome);
      },
      (error: unknown) => {
        // Dead-lettering itself failed: keep the message, as a broker would on a lost ack.
        this.#logger.error({ err: error }, 'delivery failed; requeueing');
        subscriber.stats.requeued++;
        this.#queue(queueName).ready.unshift(stored);
      },
    );
    this.#track(queueName, subscriber, task);
  }
}

/** One batch in flight per batch consumer, lingering or not; prefetch slots otherwise. */
function hasRoom(subscriber: Subscriber): boolean {
  if (subscriber.batch) return subscriber.inFlight.size === 0 && subscriber.batch.timer === undefined;
  const { prefetch, concurrency } = subscriber.options;
  return subscriber.inFlight.size < Math.min(prefetch, concurrency ?? prefetch);
}
