/**
 * The message-broker port. Services depend on this interface only; the
 * RabbitMQ adapter and the in-process adapter implement the same delivery
 * contract, proven by one contract test suite run against both:
 *
 * - publish() resolves only after the broker has the message (publisher confirm);
 * - a handler that resolves acks the message;
 * - a handler that throws a PermanentError dead-letters it at once to
 *   `<queue>.dlq` with the reason in headers, then acks: no redelivery loop;
 * - a handler that throws a TransientError is retried in-process with backoff
 *   until it succeeds or the consumer closes (then the message is requeued);
 * - any other error is retried up to `maxAttempts` times, then dead-lettered;
 * - a message redelivered more than `maxDeliveries` times (a crash loop) is
 *   dead-lettered before the handler sees it again.
 */
export interface OutboundMessage {
  body: Buffer | string | object;
  messageId?: string;
  correlationId?: string;
  headers?: Record<string, string | number | boolean>;
}

export interface InboundMessage {
  /** Raw bytes exactly as published; decoding is the consumer's job. */
  body: Buffer;
  messageId: string | undefined;
  correlationId: string | undefined;
  headers: Record<string, unknown>;
  redelivered: boolean;
  /** 1 on first delivery. */
  deliveryCount: number;
  queue: string;
}

export type MessageHandler = (message: InboundMessage) => Promise<void>;

export interface ConsumeOptions {
  queue: string;
  /** @default `${queue}.dlq` */
  deadLetterQueue?: string;
  /** Unacked messages the broker may push at once. */
  prefetch: number;
  /** Handlers running at once. @default prefetch */
  concurrency?: number;
  /** Attempts for errors that are neither permanent nor transient. @default 5 */
  maxAttempts?: number;
  /** Deliveries after which a message is treated as poison. @default 10 */
  maxDeliveries?: number;
  /**
   * Told of every message dead-lettered, after it is in the dead-letter queue,
   * including those the handler never saw again (the delivery limit).
   */
  onDeadLetter?: (message: InboundMessage, letter: { reason: string; code: string }) => void;
  /** Told of every failed attempt that will be retried (not of one requeued because the consumer closes). */
  onRetry?: (message: InboundMessage, error: unknown, attempt: number) => void;
  /**
   * Times a message may fail with the same error, transient or not, while
   * other messages settle (so the failure is the message's own), before it is
   * dead-lettered as poison. A dependency outage (Redis down or out of memory)
   * fails every message alike, settles none, and is retried for as long as it
   * lasts. Needs `progress`. @default 8
   */
  poisonAttempts?: number;
  /** Shared record of settled and in-flight messages: readiness and the poison rule read it. */
  progress?: ConsumerProgress;
}

/**
 * What a consumer has settled and what it holds, so readiness can go false
 * when a backlog makes no progress (a wedged handler) although every
 * dependency answers.
 */
export class ConsumerProgress {
  /** Messages acked or dead-lettered so far. */
  settled = 0;
  /** Messages handed to the handler and not yet settled. */
  inFlight = 0;
  #since = Date.now();

  begin(count: number): void {
    // A consumer that was idle starts its stall clock now, not at its last settle.
    if (this.inFlight === 0) this.#since = Date.now();
    this.inFlight += count;
  }

  settle(count: number): void {
    this.settled += count;
    this.#since = Date.now();
  }

  end(count: number): void {
    this.inFlight = Math.max(0, this.inFlight - count);
  }

  readonly #suspects = new Set<string>();

  /**
   * Remembers a message that failed while others settled, so a redelivery of
   * it that arrives alone is not retried in place while others wait behind it.
   */
  suspect(key: string): void {
    if (this.#suspects.size >= 10_000) this.#suspects.clear();
    this.#suspects.add(key);
  }

  isSuspect(key: string): boolean {
    return this.#suspects.has(key);
  }

  clearSuspect(key: string): void {
    this.#suspects.delete(key);
  }

  /** Milliseconds since the last message settled while messages wait (0 when nothing waits). */
  stalledMs(now = Date.now()): number {
    return this.inFlight > 0 ? now - this.#since : 0;
  }
}

/**
 * A batch consumer takes up to `batchSize` deliveries at once, or what arrived
 * within `batchLingerMs` of the first, and hands them to one handler call.
 */
export interface BatchConsumeOptions extends ConsumeOptions {
  /** Most deliveries per handler call. */
  batchSize: number;
  /** How long a short batch waits for more deliveries. @default 5 */
  batchLingerMs?: number;
}

/**
 * The messages of a batch that failed, each with its own error; every other
 * message of the batch succeeded. A handler that throws fails the whole batch.
 */
export type BatchFailures = ReadonlyMap<InboundMessage, unknown>;

export type BatchHandler = (messages: readonly InboundMessage[]) => Promise<BatchFailures | undefined>;

export interface ConsumerStats {
  acked: number;
  deadLettered: number;
  requeued: number;
  retries: number;
}

export interface ConsumerHandle {
  readonly stats: ConsumerStats;
  /** Stops new deliveries and waits for the handlers in flight. */
  close(): Promise<void>;
}

export type BrokerKind = 'rabbitmq' | 'memory';

export interface MessageBroker {
  readonly kind: BrokerKind;
  /** Declares each queue and its dead-letter queue. */
  declareQueues(queues: readonly string[]): Promise<void>;
  publish(queue: string, message: OutboundMessage): Promise<void>;
  consume(options: ConsumeOptions, handler: MessageHandler): ConsumerHandle;
  /**
   * Batches deliveries (one batch in flight per consumer, in delivery order).
   * Messages that fail are retried or dead-lettered one by one through the same
   * policy as consume(); the rest of the batch is settled once (a single
   * `multiple` ack on RabbitMQ when nothing is requeued).
   */
  consumeBatch(options: BatchConsumeOptions, handler: BatchHandler): ConsumerHandle;
  /** Throws unless the broker answers right now. */
  check(): Promise<void>;
  isConnected(): boolean;
  /** Called with true/false whenever the connection state changes. */
  onConnectionChange(listener: (connected: boolean) => void): void;
  close(): Promise<void>;
}

export const DEAD_LETTER_HEADERS = {
  reason: 'x-af-dead-letter-reason',
  code: 'x-af-error-code',
  queue: 'x-af-original-queue',
  at: 'x-af-dead-lettered-at',
  deliveries: 'x-af-delivery-count',
} as const;

export function deadLetterQueueOf(options: Pick<ConsumeOptions, 'queue' | 'deadLetterQueue'>): string {
  return options.deadLetterQueue ?? `${options.queue}.dlq`;
}

export function encodeBody(body: OutboundMessage['body']): Buffer {
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/**
 * Content type of published JSON. The charset parameter also keeps
 * rabbitmq-client from decoding bodies itself: consumers must see raw bytes to
 * detect invalid UTF-8 and oversized messages.
 */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
