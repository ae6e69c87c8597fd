import { backoffDelay, sleep } from '../backoff.ts';
import { errorMessage, isPermanent, isTransient } from '../errors.ts';
import {
  type BatchHandler,
  type ConsumeOptions,
  type ConsumerProgress,
  DEAD_LETTER_HEADERS,
  type InboundMessage,
  type MessageHandler,
} from './port.ts';

export type Outcome = 'ack' | 'dead-letter' | 'requeue';

export interface DeadLetter {
  reason: string;
  code: string;
}

export interface PolicyHooks {
  deadLetter: (message: InboundMessage, letter: DeadLetter) => Promise<void>;
  onRetry?: (message: InboundMessage, error: unknown, attempt: number) => void;
  /** Aborted when the consumer closes: transient retries stop and the message is requeued. */
  signal: AbortSignal;
  /** Whether deliveries wait behind the batch in flight (batch consumers). */
  othersWaiting?: () => boolean;
}

/**
 * The one place that decides what happens to a delivery, shared by every
 * broker adapter so they cannot drift apart.
 */
export async function deliver(
  message: InboundMessage,
  handler: MessageHandler,
  options: ConsumeOptions,
  hooks: PolicyHooks,
): Promise<Outcome> {
  const progress = options.progress;
  progress?.begin(1);
  try {
    const outcome = await deliverOne(message, handler, options, hooks);
    if (outcome !== 'requeue') progress?.settle(1);
    return outcome;
  } finally {
    progress?.end(1);
  }
}

async function deliverOne(
  message: InboundMessage,
  handler: MessageHandler,
  options: ConsumeOptions,
  hooks: PolicyHooks,
): Promise<Outcome> {
  const maxDeliveries = options.maxDeliveries ?? 10;
  const maxAttempts = options.maxAttempts ?? 5;
  const deadLetter = async (letter: DeadLetter): Promise<'dead-letter'> => {
    await hooks.deadLetter(message, letter);
    options.onDeadLetter?.(message, letter);
    return 'dead-letter';
  };
  if (message.deliveryCount > maxDeliveries) {
    return deadLetter({
      reason: `delivered ${message.deliveryCount} times without being acknowledged`,
      code: 'AF_DELIVERY_LIMIT',
    });
  }
  const repeats = new RepeatedFailure(options);
  for (let attempt = 1; ; attempt++) {
    const settledBefore = options.progress?.settled ?? 0;
    try {
      await handler(message);
      return 'ack';
    } catch (error) {
      if (isPermanent(error)) return deadLetter({ reason: errorMessage(error), code: error.code });
      const transient = isTransient(error);
      if (!transient && attempt >= maxAttempts) {
        return deadLetter({ reason: `failed ${attempt} times: ${errorMessage(error)}`, code: 'AF_HANDLER_FAILED' });
      }
      const poison = repeats.record(error, settledBefore);
      if (poison !== undefined) return deadLetter(poison);
      if (hooks.signal.aborted) return 'requeue';
      hooks.onRetry?.(message, error, attempt);
      options.onRetry?.(message, error, attempt);
      await sleep(backoffDelay(attempt - 1, { initialMs: 50, maxMs: transient ? 5000 : 1000 }), hooks.signal);
      if (hooks.signal.aborted) return 'requeue';
    }
  }
}

/**
 * The batch form of deliver(), with the same rules per message: messages over
 * the delivery limit are dead-lettered before the handler sees them; the
 * handler then gets the rest at once. Only the messages that failed are
 * retried (together, as a smaller batch) or dead-lettered; the others keep
 * their 'ack' and are never handed over again. A whole batch that throws a
 * non-transient error is retried one message at a time, so one poison message
 * cannot take the others down with it. Returns one outcome per message, in order.
 */
export async function deliverBatch(
  messages: readonly InboundMessage[],
  handler: BatchHandler,
  options: ConsumeOptions,
  hooks: PolicyHooks,
): Promise<Outcome[]> {
  const progress = options.progress;
  progress?.begin(messages.length);
  try {
    return await deliverMany(messages, handler, options, hooks, progress);
  } finally {
    progress?.end(messages.length);
  }
}

async function deliverMany(
  messages: readonly InboundMessage[],
  handler: BatchHandler,
  options: ConsumeOptions,
  hooks: PolicyHooks,
  progress: ConsumerProgress | undefined,
): Promise<Outcome[]> {
  const maxDeliveries = options.maxDeliveries ?? 10;
  const maxAttempts = options.maxAttempts ?? 5;
  const outcomes: Outcome[] = messages.map(() => 'ack');
  const deadLetter = async (index: number, letter: DeadLetter): Promise<void> => {
    const message = messages[index]!;
    await hooks.deadLetter(message, letter);
    options.onDeadLetter?.(message, letter);
    outcomes[index] = 'dead-letter';
    progress?.settle(1);
    progress?.clearSuspect(keyOf(message));
  };
  const repeats = messages.map(() => new RepeatedFailure(options));
  let pending: number[] = [];
  for (const [index, message] of messages.entries()) {
    if (message.deliveryCount > maxDeliveries) {
      await deadLetter(index, {
        reason: `delivered ${message.deliveryCount} times without being acknowledged`,
        code: 'AF_DELIVERY_LIMIT',
      });
    } else pending.push(index);
  }
  let isolate = false;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const settledBefore = progress?.settled ?? 0;
    const failed = await runBatchRound(pending, messages, handler, isolate);
    const succeeded = pending.length - failed.size;
    if (succeeded > 0) progress?.settle(succeeded);
    for (const index of pending) if (!failed.has(index)) progress?.clearSuspect(keyOf(messages[index]!));
    const next: number[] = [];
    let anyTransient = false;
    for (const index of pending) {
      if (!failed.has(index)) continue;
      const error = failed.get(index);
      const poison = isPermanent(error) ? undefined : repeats[index]!.record(error, settledBefore);
      if (isPermanent(error)) await deadLetter(index, { reason: errorMessage(error), code: error.code });
      else if (!isTransient(error) && attempt >= maxAttempts) {
        await deadLetter(index, { reason: `failed ${attempt} times: ${errorMessage(error)}`, code: 'AF_HANDLER_FAILED' });
      } else if (poison !== undefined) await deadLetter(index, poison);
      else {
        anyTransient ||= isTransient(error);
        next.push(index);
      }
    }
    pending = next;
    if (pending.length === 0) break;
    // One batch is in flight per consumer: messages that failed while the rest of their batch settled would hold
    // every later message back. They go back to the queue (their delivery count grows towards the delivery limit)
    // and the consumer moves on; so does a redelivered suspect that came alone while others wait. Messages of an
    // outage settle nothing and are never suspected, so they stay and are retried here as long as it lasts.
    // (Other errors are bounded by maxAttempts right here.)
    for (const index of pending) if (repeats[index]!.evidence > 0) progress?.suspect(keyOf(messages[index]!));
    const parked = (index: number): boolean =>
      isTransient(failed.get(index)) &&
      (repeats[index]!.evidence > 0 || (progress?.isSuspect(keyOf(messages[index]!)) === true && hooks.othersWaiting?.() === true));
    if (pending.every(parked)) break;
    // A first delivery failing alone while others wait gets one turn behind them, so they show whether it is
    // the message or an outage (an outage holds it in place from its second delivery on).
    const lone = pending.length === 1 && messages.length === 1 && messages[pending[0]!]!.deliveryCount === 1;
    if (lone && attempt >= 3 && isTransient(failed.get(pending[0]!)) && hooks.othersWaiting?.() === true) {
      progress?.suspect(keyOf(messages[pending[0]!]!));
      break;
    }
    // A batch that keeps failing as a whole is split, so the one message behind it (if any) shows itself:
    // at once for errors that are not transient, after a few rounds for transient ones (an outage fails every part alike).
    if (failed.wholeBatch && pending.length > 1 && (!anyTransient || attempt >= 3)) isolate = true;
    if (hooks.signal.aborted) break;
    for (const index of pending) {
      hooks.onRetry?.(messages[index]!, failed.get(index), attempt);
      options.onRetry?.(messages[index]!, failed.get(index), attempt);
    }
    await sleep(backoffDelay(attempt - 1, { initialMs: 50, maxMs: anyTransient ? 5000 : 1000 }), hooks.signal);
    if (hooks.signal.aborted) break;
  }
  for (const index of pending) outcomes[index] = 'requeue';
  return outcomes;
}

/** How many poison attempts by default (ConsumeOptions.poisonAttempts). */
export const DEFAULT_POISON_ATTEMPTS = 8;

/**
 * One message's run of failures with the same error. A failure counts as
 * evidence against the message only when another message settled since its
 * previous failure: the consumer works, this message does not. A dependency
 * outage fails every message and settles none, so it never counts, however
 * long it lasts. `evidence` reaching poisonAttempts makes the message poison.
 */
class RepeatedFailure {
  readonly #limit: number;
  readonly #progress: ConsumerProgress | undefined;
  #signature: string | undefined;
  #settledAtLast = 0;
  evidence = 0;

  constructor(options: ConsumeOptions) {
    this.#limit = options.poisonAttempts ?? DEFAULT_POISON_ATTEMPTS;
    this.#progress = options.progress;
  }

  /** `settledBefore`: the settled count when the failed attempt started (others settling beside it count too). */
  record(error: unknown, settledBefore: number): DeadLetter | undefined {
    const signature = signatureOf(error);
    const settled = this.#progress?.settled ?? 0;
    if (signature !== this.#signature) {
      this.#signature = signature;
      this.evidence = settled > settledBefore ? 1 : 0;
    } else if (settled > this.#settledAtLast) this.evidence++;
    this.#settledAtLast = settled;
    if (this.evidence < this.#limit) return undefined;
    return {
      reason: `failed the same way ${this.evidence} times while other messages were processed: ${errorMessage(error)}`,
      code: 'AF_HANDLER_FAILED',
    };
  }
}

/** What identifies a message across its redeliveries. */
function keyOf(message: InboundMessage): string {
  return message.messageId ?? `body:${message.body.byteLength}:${message.body.subarray(0, 64).toString('base64')}`;
}

function signatureOf(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const name = error instanceof Error ? error.name : typeof error;
  return `${name}|${String(code ?? '')}|${errorMessage(error)}`;
}

/** Errors by message index; `wholeBatch` when one handler call threw for several messages. */
type RoundFailures = Map<number, unknown> & { wholeBatch?: boolean };

async function runBatchRound(
  pending: readonly number[],
  messages: readonly InboundMessage[],
  handler: BatchHandler,
  isolate: boolean,
): Promise<RoundFailures> {
  const failed: RoundFailures = new Map();
  const groups = isolate ? pending.map((index) => [index]) : [pending];
  for (const group of groups) {
    const batch = group.map((index) => messages[index]!);
    try {
      const failures = await handler(batch);
      if (failures === undefined) continue;
      for (const index of group) {
        const message = messages[index]!;
        if (failures.has(message)) failed.set(index, failures.get(message));
      }
    } catch (error) {
      for (const index of group) failed.set(index, error);
      if (group.length > 1) failed.wholeBatch = true;
    }
  }
  return failed;
}

export function deadLetterHeaders(message: InboundMessage, letter: DeadLetter): Record<string, string | number> {
  const kept: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(message.headers)) {
    if (typeof value === 'string' || typeof value === 'number') kept[key] = value;
  }
  return {
    ...kept,
    [DEAD_LETTER_HEADERS.reason]: letter.reason.slice(0, 1000),
    [DEAD_LETTER_HEADERS.code]: letter.code,
    [DEAD_LETTER_HEADERS.queue]: message.queue,
    [DEAD_LETTER_HEADERS.at]: new Date().toISOString(),
    [DEAD_LETTER_HEADERS.deliveries]: message.deliveryCount,
  };
}
