import { backoffDelay, sleep } from '../backoff.ts';
import { errorMessage, isPermanent, isTransient, AfDeliveryLimitError, AfHandlerFailedError } from '../errors.ts';
import {
  type BatchHandler,
  type ConsumeOptions,
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
      code: AfDeliveryLimitError.code,
    });
  }
  for (let attempt = 1; ; attempt++) {
    try {
      await handler(message);
      return 'ack';
    } catch (error) {
      if (isPermanent(error)) return deadLetter({ reason: errorMessage(error), code: error.code });
      const transient = isTransient(error);
      if (!transient && attempt >= maxAttempts) {
        return deadLetter({ reason: `failed ${attempt} times: ${errorMessage(error)}`, code: AfHandlerFailedError.code });
      }
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
  const maxDeliveries = options.maxDeliveries ?? 10;
  const maxAttempts = options.maxAttempts ?? 5;
  const outcomes: Outcome[] = messages.map(() => 'ack');
  const deadLetter = async (index: number, letter: DeadLetter): Promise<void> => {
    const message = messages[index]!;
    await hooks.deadLetter(message, letter);
    options.onDeadLetter?.(message, letter);
    outcomes[index] = 'dead-letter';
  };
  let pending: number[] = [];
  for (const [index, message] of messages.entries()) {
    if (message.deliveryCount > maxDeliveries) {
      await deadLetter(index, {
        reason: `delivered ${message.deliveryCount} times without being acknowledged`,
        code: AfDeliveryLimitError.code,
      });
    } else pending.push(index);
  }
  let isolate = false;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const failed = await runBatchRound(pending, messages, handler, isolate);
    const next: number[] = [];
    let anyTransient = false;
    for (const index of pending) {
      if (!failed.has(index)) continue;
      const error = failed.get(index);
      if (isPermanent(error)) await deadLetter(index, { reason: errorMessage(error), code: error.code });
      else if (!isTransient(error) && attempt >= maxAttempts) {
        await deadLetter(index, { reason: `failed ${attempt} times: ${errorMessage(error)}`, code: AfHandlerFailedError.code });
      } else {
        anyTransient ||= isTransient(error);
        next.push(index);
      }
    }
    pending = next;
    if (pending.length === 0) break;
    if (failed.wholeBatch && !anyTransient && pending.length > 1) isolate = true;
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
