import { type AuditEvent, DEAD_LETTER_HEADERS, errorMessage, type MessageBroker, TransientError, AfIngestOverloadedError, AfBrokerUnavailableError } from '@auditflow/common';
import type { IngestMetrics } from './metrics.ts';
import type { SourceKind } from './normalise/event-builder.ts';
import type { DeadLetter, Normalised } from './normalise/normaliser.ts';

export interface DeliveryReport {
  published: number;
  ignored: number;
  deadLettered: number;
  /** Reasons of the dead letters, for the HTTP answer (at most 20). */
  errors: { index: number; code: string; reason: string }[];
}

/** Refused before publishing: too much already awaits a confirm. The sender should retry later. */
export class OverloadedError extends AfIngestOverloadedError {
  constructor(inFlight: number, limit: number) {
    super(inFlight, limit);
  }
}

/**
 * Publishes normalised records: events to the analysis queue, dead letters to
 * the ingest DLQ with the reason in the same headers the broker adapters use.
 * deliver() resolves only when the broker confirmed every message, so a
 * caller acknowledges its sender (2xx, or reading more of a TCP stream) only
 * then; it throws TransientError when the broker is unavailable.
 */
export class IngestPipeline {
  readonly #broker: MessageBroker;
  readonly #queue: string;
  readonly #dlq: string;
  readonly #metrics: IngestMetrics;
  readonly #maxInFlight: number;
  #declared: Promise<void> | undefined;
  #inFlight = 0;

  constructor(options: { broker: MessageBroker; queue: string; deadLetterQueue: string; metrics: IngestMetrics; maxInFlight: number }) {
    this.#broker = options.broker;
    this.#queue = options.queue;
    this.#dlq = options.deadLetterQueue;
    this.#metrics = options.metrics;
    this.#maxInFlight = options.maxInFlight;
  }

  get queue(): string {
    return this.#queue;
  }

  get deadLetterQueue(): string {
    return this.#dlq;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Declares the queues once; a failure is forgotten so the next call tries again. */
  ensureQueues(): Promise<void> {
    // The adapter declares `<queue>.dlq` beside each queue, which is the default ingest DLQ.
    const queues = this.#dlq === `${this.#queue}.dlq` ? [this.#queue] : [this.#queue, this.#dlq];
    this.#declared ??= this.#broker.declareQueues(queues).catch((error: unknown) => {
      this.#declared = undefined;
      throw new AfBrokerUnavailableError(`declaring ${this.#queue} failed: ${errorMessage(error)}`, { cause: error });
    });
    return this.#declared;
  }

  /**
   * For callers that can be told to come back (HTTP): OverloadedError instead
   * of queueing beyond the limit, and TransientError when the broker is not
   * connected within `waitMs`, so a sender gets a quick 503 rather than a
   * request that hangs until the client library gives up.
   */
  async admit(count: number, waitMs = 2000): Promise<void> {
    if (this.#inFlight > 0 && this.#inFlight + count > this.#maxInFlight) throw new OverloadedError(this.#inFlight, this.#maxInFlight);
    for (const deadline = Date.now() + waitMs; !this.#broker.isConnected(); ) {
      if (Date.now() >= deadline) throw new AfBrokerUnavailableError('the broker is not connected; retry later');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async deliver(source: SourceKind, items: readonly Normalised[]): Promise<DeliveryReport> {
    this.#metrics.received.inc({ source }, items.length);
    const report: DeliveryReport = { published: 0, ignored: 0, deadLettered: 0, errors: [] };
    const sends: Promise<void>[] = [];
    let events = 0;
    items.forEach((item, index) => {
      if (item.kind === 'ignored') {
        report.ignored++;
      } else if (item.kind === 'event') {
        events++;
        sends.push(this.#publishEvent(item.event));
        for (const repeat of item.repeats ?? []) {
          events++;
          sends.push(this.#publishEvent(repeat));
        }
      } else {
        report.deadLettered++;
        if (report.errors.length < 20) report.errors.push({ index, code: item.letter.code, reason: item.letter.reason });
        sends.push(this.#publishDeadLetter(item.letter));
      }
    });
    if (report.ignored > 0) this.#metrics.ignored.inc({ source }, report.ignored);
    if (sends.length === 0) return report;
    this.#inFlight += sends.length;
    this.#metrics.inFlight.set(this.#inFlight);
    try {
      const results = await Promise.allSettled(sends);
      const failed = results.find((result) => result.status === 'rejected');
      if (failed) {
        const reason = (failed as PromiseRejectedResult).reason;
        throw reason instanceof TransientError
          ? reason
          : new AfBrokerUnavailableError(`publish not confirmed: ${errorMessage(reason)}`, { cause: reason });
      }
    } finally {
      this.#inFlight -= sends.length;
      this.#metrics.inFlight.set(this.#inFlight);
    }
    report.published = events;
    this.#metrics.published.inc({ source }, events);
    for (const item of items) if (item.kind === 'dead') this.#metrics.deadLettered.inc({ source, code: item.letter.code });
    return report;
  }

  async #publishEvent(event: AuditEvent): Promise<void> {
    // Queues first: the default exchange drops messages for a queue that does not exist yet, and confirms anyway.
    await this.ensureQueues();
    await this.#broker.publish(this.#queue, { body: event, messageId: event.event_id, correlationId: event.event_id });
  }

  async #publishDeadLetter(letter: DeadLetter): Promise<void> {
    await this.ensureQueues();
    await this.#broker.publish(this.#dlq, {
      body: letter.raw,
      headers: {
        [DEAD_LETTER_HEADERS.reason]: letter.reason.slice(0, 1024),
        [DEAD_LETTER_HEADERS.code]: letter.code,
        [DEAD_LETTER_HEADERS.queue]: `audit-ingest/${letter.meta.kind}`,
        [DEAD_LETTER_HEADERS.at]: new Date().toISOString(),
        'x-af-source-kind': letter.meta.kind,
        'x-af-source-transport': letter.meta.transport,
        ...(letter.meta.peer ? { 'x-af-source-peer': letter.meta.peer } : {}),
      },
    });
  }
}
