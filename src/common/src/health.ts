import { errorMessage } from './errors.ts';

export type HealthCheck = () => Promise<void> | void;

export interface CheckResult {
  ok: boolean;
  error?: string;
  latency_ms: number;
}

export interface Readiness {
  ready: boolean;
  draining: boolean;
  checks: Record<string, CheckResult>;
}

/**
 * Readiness is the live answer of every dependency, asked on each probe
 * (the original reported flags that went stale). Liveness asks nothing.
 */
export class HealthRegistry {
  readonly #checks = new Map<string, HealthCheck>();
  readonly #timeoutMs: number;
  #draining = false;

  constructor(options: { timeoutMs?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? 2000;
  }

  register(name: string, check: HealthCheck): void {
    this.#checks.set(name, check);
  }

  /** After this, readiness fails so the endpoints drop the pod before it stops. */
  startDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  async readiness(): Promise<Readiness> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]) => [name, await this.#run(check)] as const),
    );
    const checks = Object.fromEntries(entries);
    const ready = !this.#draining && entries.every(([, result]) => result.ok);
    return { ready, draining: this.#draining, checks };
  }

  async #run(check: HealthCheck): Promise<CheckResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(check),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${this.#timeoutMs} ms`)), this.#timeoutMs);
        }),
      ]);
      return { ok: true, latency_ms: Math.round(performance.now() - started) };
    } catch (error) {
      return { ok: false, error: errorMessage(error), latency_ms: Math.round(performance.now() - started) };
    } finally {
      clearTimeout(timer);
    }
  }
}
