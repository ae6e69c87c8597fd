import type { Logger } from 'pino';
import { sleep } from '../backoff.ts';
import { deadLetterHeaders, deliver } from './delivery-policy.ts';
import {
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
  handler: MessageHandler;
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
    const subscriber: Subscriber = {
      options,
      handler,
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
      const free = queue.subscribers.filter(
        (s) => !s.closed && s.inFlight.size < Math.min(s.options.prefetch, s.options.concurrency ?? s.options.prefetch),
      );
      if (free.length === 0) return;
      const subscriber = free[queue.next++ % free.length]!;
      const stored = queue.ready.shift()!;
      this.#run(name, subscriber, stored);
    }
  }

  #run(queueName: string, subscriber: Subscriber, stored: Stored): void {
    stored.deliveries++;
    const message: InboundMessage = {
      body: stored.body,
      messageId: stored.messageId,
      correlationId: stored.correlationId,
      headers: stored.headers,
      redelivered: stored.deliveries > 1,
      deliveryCount: stored.deliveries,
      queue: queueName,
    };
    const dlq = deadLetterQueueOf(subscriber.options);
    const task = deliver(message, subscriber.handler, subscriber.options, {
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
    }).then(
      (outcome) => {
        if (outcome === 'requeue') {
          subscriber.stats.requeued++;
          this.#queue(queueName).ready.unshift(stored);
        } else if (outcome === 'dead-letter') subscriber.stats.deadLettered++;
        else subscriber.stats.acked++;
      },
      (error: unknown) => {
        // Dead-lettering itself failed: keep the message, as a broker would on a lost ack.
        this.#logger.error({ err: error }, 'delivery failed; requeueing');
        subscriber.stats.requeued++;
        this.#queue(queueName).ready.unshift(stored);
      },
    );
    subscriber.inFlight.add(task);
    task.finally(() => {
      subscriber.inFlight.delete(task);
      setImmediate(() => this.#dispatch(queueName));
    });
  }
}
