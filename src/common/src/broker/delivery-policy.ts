import { backoffDelay, sleep } from '../backoff.ts';
import { errorMessage, isPermanent, isTransient } from '../errors.ts';
import { type ConsumeOptions, DEAD_LETTER_HEADERS, type InboundMessage, type MessageHandler } from './port.ts';

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
      code: 'AF_DELIVERY_LIMIT',
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
        return deadLetter({ reason: `failed ${attempt} times: ${errorMessage(error)}`, code: 'AF_HANDLER_FAILED' });
      }
      if (hooks.signal.aborted) return 'requeue';
      hooks.onRetry?.(message, error, attempt);
      options.onRetry?.(message, error, attempt);
      await sleep(backoffDelay(attempt - 1, { initialMs: 50, maxMs: transient ? 5000 : 1000 }), hooks.signal);
      if (hooks.signal.aborted) return 'requeue';
    }
  }
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
