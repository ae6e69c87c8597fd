import type { Logger } from 'pino';
import { type AsyncMessage, Connection, ConsumerStatus, type Publisher } from 'rabbitmq-client';
import { TransientError } from '../errors.ts';
import { AmqpBatchConsumer } from './amqp-batch-consumer.ts';
import { DeliveryCounter, type DeliveryFacts, type FoundQueueType } from './delivery-count.ts';
import { type DeadLetter, deadLetterHeaders, deliver } from './delivery-policy.ts';
import {
  type BatchConsumeOptions,
  type BatchHandler,
  type ConsumeOptions,
  type ConsumerHandle,
  type ConsumerStats,
  deadLetterQueueOf,
  encodeBody,
  type InboundMessage,
  JSON_CONTENT_TYPE,
  type MessageBroker,
  type MessageHandler,
  type OutboundMessage,
} from './port.ts';
import { findOrDeclareQueue, type QueueParams } from './queue-declaration.ts';
import { keepRawBodies } from './raw-bodies.ts';

export interface AmqpBrokerOptions {
  url: string;
  logger: Logger;
  /** Shown in the RabbitMQ management UI. */
  connectionName: string;
  /** Type of the queues this broker creates; a queue that exists already is used as it is. */
  queueType: 'quorum' | 'classic';
}

/** RabbitMQ adapter on rabbitmq-client: reconnects with backoff and re-declares topology itself. */
export class AmqpBroker implements MessageBroker {
  readonly kind = 'rabbitmq' as const;
  readonly #connection: Connection;
  readonly #logger: Logger;
  readonly #queueType: 'quorum' | 'classic';
  /** Every queue declared or found, with the declaration repeated after a reconnect. */
  readonly #declared = new Map<string, { params: QueueParams; type: FoundQueueType }>();
  readonly #listeners: ((connected: boolean) => void)[] = [];
  #publisher: Publisher | undefined;
  #connected = false;

  constructor(options: AmqpBrokerOptions) {
    this.#logger = options.logger;
    this.#queueType = options.queueType;
    keepRawBodies();
    this.#connection = new Connection({
      url: options.url,
      connectionName: options.connectionName,
      retryLow: 250,
      retryHigh: 15_000,
      heartbeat: 30,
      connectionTimeout: 10_000,
      acquireTimeout: 10_000,
    });
    this.#connection.on('connection', () => {
      this.#logger.info('connected to RabbitMQ');
      this.#setConnected(true);
    });
    // Never throw from this listener (cody-greene/node-rabbitmq-client#68): the client reconnects on its own.
    this.#connection.on('error', (error) => {
      this.#logger.warn({ err: error }, 'RabbitMQ connection error; reconnecting with backoff');
      this.#setConnected(this.#connection.ready);
    });
  }

  isConnected(): boolean {
    return this.#connected && this.#connection.ready;
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.#listeners.push(listener);
  }

  async declareQueues(queues: readonly string[]): Promise<void> {
    for (const queue of queues) {
      for (const name of [queue, `${queue}.dlq`]) {
        const found = await findOrDeclareQueue(this.#connection, name, this.#queueType, this.#logger);
        this.#declared.set(name, { params: found.params, type: found.type });
      }
    }
    // A new publisher re-declares every known queue after each reconnect.
    const old = this.#publisher;
    this.#publisher = undefined;
    await old?.close();
  }

  async publish(queue: string, message: OutboundMessage): Promise<void> {
    const publisher = this.#getPublisher();
    // Encoding fails the same way on every attempt (a cyclic or too deep value): it is no broker fault to retry.
    const body = encodeBody(message.body);
    try {
      await publisher.send(
        {
          exchange: '',
          routingKey: queue,
          durable: true,
          contentType: JSON_CONTENT_TYPE,
          messageId: message.messageId,
          correlationId: message.correlationId,
          timestamp: Math.floor(Date.now() / 1000),
          headers: { 'x-af-schema-version': 2, ...message.headers },
        },
        body,
      );
    } catch (error) {
      throw new TransientError('AF_PUBLISH_FAILED', `publish to ${queue} was not confirmed`, { cause: error });
    }
  }

  consume(options: ConsumeOptions, handler: MessageHandler): ConsumerHandle {
    const stats: ConsumerStats = { acked: 0, deadLettered: 0, requeued: 0, retries: 0 };
    const closing = new AbortController();
    const dlq = deadLetterQueueOf(options);
    const counter = new DeliveryCounter();
    const queueType = this.#declared.get(options.queue)?.type ?? this.#queueType;
    const consumer = this.#connection.createConsumer(
      {
        queue: options.queue,
        queueOptions: this.#queueParams(options.queue),
        qos: { prefetchCount: options.prefetch },
        concurrency: options.concurrency ?? options.prefetch,
        requeue: true,
      },
      async (raw: AsyncMessage) => {
        const message = toInbound(raw, options.queue, counter.count(deliveryFacts(raw), queueType));
        const outcome = await deliver(message, handler, options, {
          signal: closing.signal,
          deadLetter: (msg, letter) => this.#deadLetterTo(dlq, msg, letter),
          onRetry: (msg, error, attempt) => {
            stats.retries++;
            this.#logger.warn({ err: error, message_id: msg.messageId, attempt }, 'handler failed; retrying');
          },
        });
        if (outcome === 'requeue') {
          stats.requeued++;
          return ConsumerStatus.REQUEUE;
        }
        counter.settle(message);
        if (outcome === 'dead-letter') stats.deadLettered++;
        else stats.acked++;
        return ConsumerStatus.ACK;
      },
    );
    consumer.on('error', (error) => this.#logger.warn({ err: error, queue: options.queue }, 'consumer error'));
    return {
      stats,
      close: async () => {
        closing.abort();
        await consumer.close();
      },
    };
  }

  consumeBatch(options: BatchConsumeOptions, handler: BatchHandler): ConsumerHandle {
    const dlq = deadLetterQueueOf(options);
    return new AmqpBatchConsumer({
      connection: this.#connection,
      logger: this.#logger,
      options,
      handler,
      queueOptions: this.#queueParams(options.queue),
      toInbound: this.#inboundOf(options.queue),
      deadLetter: (message, letter) => this.#deadLetterTo(dlq, message, letter),
    });
  }

  /** Messages of one consumer, counted by a DeliveryCounter of its own (never by a publisher's header). */
  #inboundOf(queue: string): (raw: AsyncMessage, queue: string) => InboundMessage {
    const counter = new DeliveryCounter();
    const queueType = this.#declared.get(queue)?.type ?? this.#queueType;
    return (raw, name) => toInbound(raw, name, counter.count(deliveryFacts(raw), queueType));
  }

  async #deadLetterTo(dlq: string, message: InboundMessage, letter: DeadLetter): Promise<void> {
    this.#logger.warn(
      { queue: message.queue, message_id: message.messageId, code: letter.code, reason: letter.reason },
      'dead-lettering message',
    );
    await this.publish(dlq, {
      body: message.body,
      messageId: message.messageId,
      correlationId: message.correlationId,
      headers: deadLetterHeaders(message, letter),
    });
  }

  async check(): Promise<void> {
    if (!this.#connection.ready) throw new TransientError('AF_BROKER_DOWN', 'not connected to RabbitMQ');
    // A passive declare is a real round trip, not a cached flag.
    const [queue] = this.#declared.keys();
    if (queue !== undefined) await this.#connection.queueDeclare({ queue, passive: true });
  }

  async close(): Promise<void> {
    await this.#publisher?.close();
    await this.#connection.close();
    this.#setConnected(false);
  }

  #getPublisher(): Publisher {
    this.#publisher ??= this.#connection.createPublisher({
      confirm: true,
      maxAttempts: 3,
      queues: [...this.#declared.keys()].map((name) => this.#queueParams(name)),
    });
    return this.#publisher;
  }

  #queueParams(queue: string): QueueParams {
    return this.#declared.get(queue)?.params ?? { queue, durable: true, arguments: { 'x-queue-type': this.#queueType } };
  }

  #setConnected(connected: boolean): void {
    if (connected === this.#connected) return;
    this.#connected = connected;
    for (const listener of this.#listeners) listener(connected);
  }
}

function deliveryFacts(raw: AsyncMessage): DeliveryFacts {
  return { redelivered: raw.redelivered, headers: (raw.headers ?? {}) as Record<string, unknown>, body: bodyOf(raw) };
}

function toInbound(raw: AsyncMessage, queue: string, deliveryCount: number): InboundMessage {
  return {
    body: bodyOf(raw),
    messageId: raw.messageId,
    correlationId: raw.correlationId,
    headers: (raw.headers ?? {}) as Record<string, unknown>,
    redelivered: raw.redelivered,
    deliveryCount,
    queue,
  };
}

/** keepRawBodies leaves every body a Buffer; anything else would already be a decoded copy. */
function bodyOf(raw: AsyncMessage): Buffer {
  return Buffer.isBuffer(raw.body) ? raw.body : encodeBody(raw.body as object | string);
}
