import type { Logger } from 'pino';

export interface ShutdownStep {
  name: string;
  run: () => Promise<void> | void;
}

/**
 * Runs the steps in order on SIGTERM/SIGINT, each awaited, under one overall
 * deadline; a second signal or the deadline forces exit so a stuck drain
 * cannot outlive the pod's grace period.
 */
export class GracefulShutdown {
  readonly #steps: ShutdownStep[] = [];
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  #started: Promise<void> | undefined;

  constructor(options: { logger: Logger; timeoutMs: number }) {
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs;
  }

  add(name: string, run: ShutdownStep['run']): void {
    this.#steps.push({ name, run });
  }

  /** Installs the signal handlers; `exit` is injected so tests can observe it. */
  installSignalHandlers(exit: (code: number) => void = (code) => process.exit(code)): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (this.#started) {
        this.#logger.warn({ signal }, 'second signal: exiting now');
        exit(1);
        return;
      }
      this.#logger.info({ signal }, 'shutting down gracefully');
      const deadline = setTimeout(() => {
        this.#logger.error({ timeout_ms: this.#timeoutMs }, 'graceful shutdown timed out');
        exit(1);
      }, this.#timeoutMs);
      deadline.unref();
      this.run().then(
        () => exit(0),
        () => exit(1),
      );
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  run(): Promise<void> {
    this.#started ??= this.#runSteps();
    return this.#started;
  }

  async #runSteps(): Promise<void> {
    let failed = false;
    for (const step of this.#steps) {
      try {
        await step.run();
        this.#logger.debug({ step: step.name }, 'shutdown step done');
      } catch (error) {
        failed = true;
        this.#logger.error({ err: error, step: step.name }, 'shutdown step failed');
      }
    }
    this.#logger.info('shutdown complete');
    if (failed) throw new Error('one or more shutdown steps failed');
  }
}
