import { type AuditEvent, errorMessage, type MessageBroker, type OutboundMessage, TransientError, AfPublishFailedError } from '@auditflow/common';
import { eventLabels, type GeneratorMetrics } from './metrics.ts';

/**
 * The broker message for an event: its event_id is both the message id (so
 * consumers can deduplicate redeliveries) and the correlation id carried into
 * alerts and logs.
 */
export function toOutbound(event: AuditEvent): OutboundMessage {
  return { body: event, messageId: event.event_id, correlationId: event.event_id };
}

export interface EventPublisherOptions {
  broker: MessageBroker;
  queue: string;
  metrics: GeneratorMetrics;
  /** Resolves when the queue exists; rejects (TransientError) when it cannot be used yet. */
  ready?: () => Promise<void>;
}

/**
 * Publishes events with publisher confirms and keeps the counters honest: an
 * event counts as published only once the broker confirmed it. Every
 * caller (loop, API, scenarios) shares this one path; the broker adapter
 * serialises channel use, so concurrent callers are safe.
 */
export class EventPublisher {
  readonly #broker: MessageBroker;
  readonly #queue: string;
  readonly #metrics: GeneratorMetrics;
  readonly #ready: () => Promise<void>;

  constructor(options: EventPublisherOptions) {
    this.#broker = options.broker;
    this.#queue = options.queue;
    this.#metrics = options.metrics;
    this.#ready = options.ready ?? (() => Promise.resolve());
  }

  get queue(): string {
    return this.#queue;
  }

  /** Resolves after the broker confirmed; throws TransientError AF_PUBLISH_FAILED otherwise. */
  async publish(event: AuditEvent): Promise<void> {
    // Counted before publishing, as the original did: "generated", not "delivered".
    this.#metrics.events.inc(eventLabels(event));
    try {
      await this.#ready();
      await this.#broker.publish(this.#queue, toOutbound(event));
    } catch (error) {
      this.#metrics.publishedFailure.inc();
      if (error instanceof TransientError) throw error;
      throw new AfPublishFailedError(`publish to ${this.#queue} failed: ${errorMessage(error)}`, {
        cause: error,
      });
    }
    this.#metrics.publishedSuccess.inc();
  }

  /**
   * Publishes every event at once and waits for every confirm. Returns the ids
   * confirmed and the failures, so a caller can report a partial batch.
   */
  async publishAll(events: readonly AuditEvent[]): Promise<{ confirmed: string[]; failed: { event_id: string; error: unknown }[] }> {
    const results = await Promise.allSettled(events.map((event) => this.publish(event)));
    const confirmed: string[] = [];
    const failed: { event_id: string; error: unknown }[] = [];
    results.forEach((result, index) => {
      const id = events[index]!.event_id;
      if (result.status === 'fulfilled') confirmed.push(id);
      else failed.push({ event_id: id, error: result.reason });
    });
    return { confirmed, failed };
  }
}
