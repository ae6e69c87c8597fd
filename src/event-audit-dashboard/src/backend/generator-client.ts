import { BackendRejectedError } from '../errors.ts';

/** The demo stream's state as the generator reports it (GET /generator/status). */
export interface GeneratorStatus {
  running: boolean;
  paused: boolean;
  configured: boolean;
  events_per_second: number;
  scenario_interval_seconds: number;
  reason: string;
  changed_by: string | null;
  since: string;
}

/**
 * Asks the generator about its demo stream and pauses or resumes it, always
 * from the server: the control token never reaches a browser.
 */
export class GeneratorClient {
  readonly #base: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: { baseUrl: string; token?: string | undefined; timeoutMs: number; fetch?: typeof fetch }) {
    this.#base = options.baseUrl;
    this.#token = options.token;
    this.#timeoutMs = Math.min(options.timeoutMs, 2000);
    this.#fetch = options.fetch ?? fetch;
  }

  get canControl(): boolean {
    return this.#token !== undefined;
  }

  /** Undefined when the generator does not answer (not running, older version): the page shows no panel. */
  async status(): Promise<GeneratorStatus | undefined> {
    try {
      const response = await this.#fetch(`${this.#base}/generator/status`, { signal: AbortSignal.timeout(this.#timeoutMs) });
      if (!response.ok) {
        await response.body?.cancel();
        return undefined;
      }
      return (await response.json()) as GeneratorStatus;
    } catch {
      return undefined;
    }
  }

  /** Throws with the generator's problem detail when it refuses. */
  async set(action: 'pause' | 'resume'): Promise<GeneratorStatus> {
    const response = await this.#fetch(`${this.#base}/generator/${action}`, {
      method: 'POST',
      headers: this.#token ? { authorization: `Bearer ${this.#token}` } : {},
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
    if (!response.ok) {
      const detail = typeof body?.['detail'] === 'string' ? body['detail'] : `the generator answered ${response.status}`;
      throw new BackendRejectedError(502, `the generator refused to ${action} the demo stream: ${detail}`);
    }
    return body as unknown as GeneratorStatus;
  }
}
