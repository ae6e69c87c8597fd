import type { Logger } from 'pino';
import { AMQPChannelError, type Connection } from 'rabbitmq-client';
import type { FoundQueueType } from './delivery-count.ts';

export type ConfiguredQueueType = 'quorum' | 'classic';

/** The declaration to repeat after every reconnect, so nothing ever asks the broker to change a queue. */
export interface QueueParams {
  queue: string;
  durable?: boolean;
  passive?: boolean;
  arguments?: Record<string, string>;
}

export interface FoundQueue {
  queue: string;
  type: FoundQueueType;
  /** True when this call created the queue (with the configured type). */
  created: boolean;
  messageCount: number;
  consumerCount: number;
  params: QueueParams;
}

/**
 * Uses a queue as it is when it already exists, and creates it with the
 * configured type only when it does not. The original services declare
 * classic durable queues with no arguments; declaring those names as quorum
 * queues (or the reverse) fails with PRECONDITION_FAILED, so whichever side
 * starts second could never share the queue.
 *
 * AMQP 0-9-1 has no call that reads a queue's type or arguments (passive
 * declare-ok carries only the counts), so the type is found the way RabbitMQ
 * itself checks equivalence: a declaration with exactly `durable` and
 * `x-queue-type` succeeds only if the queue has that type and no other
 * arguments. A queue with other arguments (TTL, length limit, delivery limit)
 * or not durable is "other", and is then only ever declared passively.
 */
export async function findOrDeclareQueue(
  connection: Connection,
  queue: string,
  configured: ConfiguredQueueType,
  logger: Logger,
): Promise<FoundQueue> {
  let existing = await passiveDeclare(connection, queue);
  if (existing === undefined) {
    const params = typedParams(queue, configured);
    try {
      const ok = await connection.queueDeclare(params);
      logger.info({ queue, type: configured }, 'queue declared');
      return { queue, type: configured, created: true, messageCount: ok.messageCount, consumerCount: ok.consumerCount, params };
    } catch (error) {
      // Created by someone else between the two calls, with other settings: use theirs.
      if (!isChannelError(error, 'PRECONDITION_FAILED')) throw error;
      existing = await passiveDeclare(connection, queue);
      if (existing === undefined) throw error;
    }
  }
  const type = await probeType(connection, queue, configured);
  const params = type === 'other' ? { queue, passive: true } : typedParams(queue, type);
  const found: FoundQueue = { queue, type, created: false, ...existing, params };
  const fields = { queue, type, configured_type: configured, messages: existing.messageCount, consumers: existing.consumerCount };
  if (type === configured) logger.info(fields, 'queue exists; using it as it is');
  else logger.warn(fields, `queue exists as ${type === 'other' ? 'a queue with other arguments' : `a ${type} queue`}; using it as it is (RABBITMQ_QUEUE_TYPE applies to new queues only)`);
  return found;
}

function typedParams(queue: string, type: ConfiguredQueueType): QueueParams {
  return { queue, durable: true, arguments: { 'x-queue-type': type } };
}

async function passiveDeclare(connection: Connection, queue: string): Promise<{ messageCount: number; consumerCount: number } | undefined> {
  try {
    const ok = await connection.queueDeclare({ queue, passive: true });
    return { messageCount: ok.messageCount, consumerCount: ok.consumerCount };
  } catch (error) {
    if (isChannelError(error, 'NOT_FOUND')) return undefined;
    throw error;
  }
}

async function probeType(connection: Connection, queue: string, configured: ConfiguredQueueType): Promise<FoundQueueType> {
  const candidates: ConfiguredQueueType[] = configured === 'quorum' ? ['quorum', 'classic'] : ['classic', 'quorum'];
  for (const type of candidates) {
    try {
      await connection.queueDeclare(typedParams(queue, type));
      return type;
    } catch (error) {
      if (!isChannelError(error, 'PRECONDITION_FAILED')) throw error;
    }
  }
  return 'other';
}

function isChannelError(error: unknown, code: string): boolean {
  return error instanceof AMQPChannelError && error.code === code;
}
