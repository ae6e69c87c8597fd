import type {
  ConsumerHandle,
  MessageBroker,
  OutboundMessage,
} from '@auditflow/common';
import { TransientError } from '@auditflow/common';

/**
 * A broker double for the HTTP and loop tests: records what was published,
 * and can be told to refuse publishes or to report a lost connection.
 */
export class FakeBroker implements MessageBroker {
  readonly kind = 'memory' as const;
  readonly published: { queue: string; message: OutboundMessage }[] = [];
  readonly declared: string[] = [];
  failPublish = false;
  /** How many declareQueues calls fail before one succeeds (a broker still starting). */
  failDeclares = 0;
  connected = true;
  checks = 0;
  readonly #listeners: ((connected: boolean) => void)[] = [];

  async declareQueues(queues: readonly string[]): Promise<void> {
    if (this.failDeclares > 0) {
      this.failDeclares--;
      throw new TransientError('AF_BROKER_DOWN', 'not connected to RabbitMQ');
    }
    this.declared.push(...queues);
  }

  async publish(queue: string, message: OutboundMessage): Promise<void> {
    // Confirms arrive asynchronously on a real broker too.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.failPublish) throw new TransientError('AF_PUBLISH_FAILED', `publish to ${queue} was not confirmed`);
    this.published.push({ queue, message });
  }

  consume(): ConsumerHandle {
    throw new Error('the generator never consumes');
  }

  consumeBatch(): ConsumerHandle {
    throw new Error('the generator never consumes');
  }

  async check(): Promise<void> {
    this.checks++;
    if (!this.connected) throw new TransientError('AF_BROKER_DOWN', 'not connected to RabbitMQ');
  }

  isConnected(): boolean {
    return this.connected;
  }

  onConnectionChange(listener: (connected: boolean) => void): void {
    this.#listeners.push(listener);
  }

  setConnected(connected: boolean): void {
    this.connected = connected;
    for (const listener of this.#listeners) listener(connected);
  }

  /** The published bodies, decoded. */
  bodies(): Record<string, unknown>[] {
    return this.published.map(({ message }) => message.body as Record<string, unknown>);
  }

  async close(): Promise<void> {}
}
