import { createHash } from 'node:crypto';

/** What a queue turned out to be when it was declared or found (see queue-declaration.ts). */
export type FoundQueueType = 'quorum' | 'classic' | 'other';

/** The parts of a delivery the count may depend on: all set by the broker, except the headers. */
export interface DeliveryFacts {
  redelivered: boolean;
  headers: Record<string, unknown>;
  body: Buffer;
}

/**
 * Counts deliveries of one consumer without believing anything a publisher
 * can write. Headers travel from the publisher untouched, so a header alone
 * proves nothing: a publisher that sets `x-delivery-count: 51` must not get
 * its own event dead-lettered as a crash loop on its first delivery.
 *
 * - Not redelivered (the broker's flag in basic.deliver): the first delivery, 1.
 * - Redelivered from a quorum queue: RabbitMQ writes `x-delivery-count` itself
 *   on every redelivery, replacing any value the publisher set, so it is
 *   believed then, and only then.
 * - Redelivered from a classic (or unrecognised) queue: the header is the
 *   publisher's, so the consumer counts the redeliveries it sees itself, keyed
 *   by a hash of the body (the only part of a message that identifies it and
 *   that a second publisher cannot share without sending the same event).
 *   Within one process that is exact; after a restart a classic queue only
 *   says "redelivered", which counts as 2.
 */
export class DeliveryCounter {
  readonly #seen = new Map<string, number>();
  readonly #maxTracked: number;

  constructor(maxTracked = 10_000) {
    this.#maxTracked = maxTracked;
  }

  /** Deliveries of this message so far, this one included. */
  count(delivery: DeliveryFacts, queueType: FoundQueueType): number {
    if (!delivery.redelivered) return 1;
    const key = keyOf(delivery.body);
    const seenHere = (this.#seen.get(key) ?? 1) + 1;
    this.#remember(key, seenHere);
    const counted = queueType === 'quorum' ? quorumCount(delivery.headers) : undefined;
    return Math.max(seenHere, counted ?? 2);
  }

  /** The message is settled (acked or dead-lettered): stop tracking it. */
  settle(delivery: DeliveryFacts): void {
    if (delivery.redelivered) this.#seen.delete(keyOf(delivery.body));
  }

  /** Messages tracked now (bounded by maxTracked). */
  get tracked(): number {
    return this.#seen.size;
  }

  #remember(key: string, count: number): void {
    this.#seen.delete(key);
    this.#seen.set(key, count);
    // Map iteration is insertion order: the first key is the one seen least recently.
    if (this.#seen.size > this.#maxTracked) this.#seen.delete(this.#seen.keys().next().value as string);
  }
}

/** RabbitMQ's count of earlier deliveries on a quorum queue, plus this one; undefined if absent or malformed. */
function quorumCount(headers: Record<string, unknown>): number | undefined {
  const earlier = headers['x-delivery-count'];
  return typeof earlier === 'number' && Number.isSafeInteger(earlier) && earlier >= 0 ? earlier + 1 : undefined;
}

function keyOf(body: Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}
