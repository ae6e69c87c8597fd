import type { ServerResponse } from 'node:http';
import { formatSseEvent, type Logger, SSE_KEEP_ALIVE, startEventStream } from '@auditflow/common';
import type { NotificationMetrics } from '../metrics.ts';
import type { AlertChange, AlertStore } from '../store/alert-store.ts';

export interface SseHubOptions {
  store: AlertStore;
  logger: Logger;
  metrics: NotificationMetrics;
  /** @default 15000 */
  keepAliveMs?: number;
  /** @default 1000 */
  maxClients?: number;
  /** A client whose unsent output grows past this is too slow and is dropped. @default 1 MiB */
  maxBufferedBytes?: number;
}

/**
 * Fans alert changes out to Server-Sent-Events clients. The store
 * subscription is held only while clients are connected, so a replica nobody
 * watches never reads changed rows back. Event ids increase monotonically,
 * also across restarts (they start from the clock).
 */
export class SseHub {
  readonly #options: SseHubOptions;
  readonly #clients = new Set<ServerResponse>();
  #unsubscribe: Promise<() => Promise<void>> | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #nextId = Date.now() * 1000;
  #closed = false;

  constructor(options: SseHubOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#clients.size;
  }

  get full(): boolean {
    return this.#clients.size >= (this.#options.maxClients ?? 1000);
  }

  /**
   * Holds the store subscription before any stream is opened, so no change
   * committed after a client saw the opening comment can be missed.
   */
  async ready(): Promise<void> {
    this.#unsubscribe ??= this.#options.store.subscribe((change) => this.#broadcast(change));
    try {
      await this.#unsubscribe;
    } catch (error) {
      this.#unsubscribe = undefined;
      throw error;
    }
  }

  /** Takes over a response (already hijacked from fastify) as an event stream until the client leaves. */
  attach(response: ServerResponse, headers: Record<string, string>): void {
    // The last client may have left between ready() and now, releasing the subscription.
    if (!this.#unsubscribe) void this.ready().catch((error: unknown) => this.#options.logger.warn({ err: error }, 'SSE resubscribe failed'));
    startEventStream(response, headers);
    this.#clients.add(response);
    this.#options.metrics.sseClients.set(this.#clients.size);
    response.on('close', () => this.#remove(response));
    this.#keepAlive ??= setInterval(() => this.#write(SSE_KEEP_ALIVE), this.#options.keepAliveMs ?? 15_000);
    this.#keepAlive.unref();
  }

  /** Ends every stream (shutdown). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const client of [...this.#clients]) client.end();
    this.#clients.clear();
    this.#options.metrics.sseClients.set(0);
    await this.#release();
  }

  #broadcast(change: AlertChange): void {
    if (this.#closed) return;
    this.#write(formatSseEvent({ id: String(this.#nextId++), event: `alert.${change.kind}`, data: change.json }));
  }

  #write(chunk: string): void {
    const limit = this.#options.maxBufferedBytes ?? 1_048_576;
    for (const client of this.#clients) {
      if (client.writableLength > limit) {
        this.#options.logger.warn({ buffered: client.writableLength }, 'dropping a slow SSE client');
        client.destroy();
        continue;
      }
      client.write(chunk);
    }
  }

  #remove(response: ServerResponse): void {
    if (!this.#clients.delete(response)) return;
    this.#options.metrics.sseClients.set(this.#clients.size);
    if (this.#clients.size === 0) void this.#release();
  }

  async #release(): Promise<void> {
    if (this.#keepAlive) clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
    const pending = this.#unsubscribe;
    this.#unsubscribe = undefined;
    if (pending) await (await pending.catch(() => async () => undefined))();
  }
}
