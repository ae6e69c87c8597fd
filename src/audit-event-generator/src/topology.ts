import { backoffDelay, errorMessage, type Logger, type MessageBroker, sleep, AfPublishFailedError, AfTopologyPendingError } from '@auditflow/common';

/**
 * Declares the output queue in the background, retrying with backoff, so the
 * generator starts (and serves /healthz) while RabbitMQ is still down instead
 * of crash-looping (the original's own wish list, section 14 item 31).
 * Publishing waits for it: the default exchange silently drops messages for a
 * queue that does not exist yet, and a confirm would still say "ok".
 */
export class QueueTopology {
  readonly #broker: MessageBroker;
  readonly #queues: readonly string[];
  readonly #logger: Logger;
  readonly #abort = new AbortController();
  readonly #declared: Promise<void>;
  #ready = false;
  #lastError: string | undefined;

  constructor(options: { broker: MessageBroker; queues: readonly string[]; logger: Logger }) {
    this.#broker = options.broker;
    this.#queues = options.queues;
    this.#logger = options.logger;
    this.#declared = this.#declare();
    // Nobody may be waiting yet; a rejection here only means "stopped before ready".
    this.#declared.catch(() => undefined);
  }

  get ready(): boolean {
    return this.#ready;
  }

  /** For readiness: throws while the queues are not declared yet. */
  check(): void {
    if (!this.#ready) {
      throw new AfTopologyPendingError(this.#lastError ? `: ${this.#lastError}` : '');
    }
  }

  /** Resolves once the queues exist; rejects only when stopped first. */
  whenReady(): Promise<void> {
    return this.#declared;
  }

  /** Resolves once the queues exist; throws TransientError after `timeoutMs` or when stopped. */
  async waitReady(timeoutMs: number): Promise<void> {
    if (this.#ready) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#declared,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new AfPublishFailedError(`queues not declared within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  stop(): void {
    this.#abort.abort();
  }

  async #declare(): Promise<void> {
    const signal = this.#abort.signal;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        await this.#broker.declareQueues(this.#queues);
        this.#ready = true;
        this.#lastError = undefined;
        this.#logger.info({ queues: this.#queues }, 'queues declared');
        return;
      } catch (error) {
        this.#lastError = errorMessage(error);
        const delay = backoffDelay(attempt, { initialMs: 250, maxMs: 15_000 });
        this.#logger.warn({ err: error, attempt, retry_in_ms: delay }, 'declaring queues failed; retrying');
        await sleep(delay, signal);
      }
    }
    throw new AfPublishFailedError('stopped before the queues were declared');
  }
}
