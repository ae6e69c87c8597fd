import { Counter, Gauge, type Registry } from '@auditflow/common';

export type BackendOutcome = 'ok' | 'error' | 'timeout';

/** The dashboard's view of its one dependency (docs/observability.md). */
export class BackendMetrics {
  readonly #requests: Counter<'outcome'>;
  readonly #up: Gauge;

  constructor(registry: Registry) {
    this.#requests = new Counter({
      name: 'dashboard_backend_requests_total',
      help: 'Calls to the notification API by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.#up = new Gauge({
      name: 'dashboard_backend_up',
      help: '1 when the last call to the notification API got an answer below 500, else 0',
      registers: [registry],
    });
    // Every outcome is exported from the start so rate() works before the first failure.
    for (const outcome of ['ok', 'error', 'timeout'] as const) this.#requests.inc({ outcome }, 0);
    this.#up.set(0);
  }

  record(outcome: BackendOutcome): void {
    this.#requests.inc({ outcome });
    this.#up.set(outcome === 'ok' ? 1 : 0);
  }
}
