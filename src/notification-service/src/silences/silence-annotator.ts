import type { AlertStore } from '../store/alert-store.ts';
import type { AlertRow } from '../delivery/outputs/notification.ts';
import { alertLabels } from '../delivery/alert-labels.ts';
import { type CompiledMatcher, compileMatcher, matchesAll } from '../delivery/matchers.ts';
import type { SilenceStore } from './silence-store.ts';

interface Compiled {
  id: string;
  matchers: CompiledMatcher[];
}

const NOT_SILENCED = ',"silenced":false,"silenced_by":[]}';

/**
 * Adds `silenced` and `silenced_by` to alert JSON as the alert stands now against the silences in
 * force now (a silence that ends un-silences its alerts without rewriting them). The silences are
 * re-read at most every `refreshMs` (and at once after a change made here), so a list page costs
 * no extra query per row; with no silence in force the rows are not even parsed.
 */
export class SilenceAnnotator {
  readonly #silences: SilenceStore;
  readonly #refreshMs: number;
  #active: Compiled[] = [];
  #readAt = Number.NEGATIVE_INFINITY;
  #reading: Promise<void> | undefined;

  constructor(silences: SilenceStore, refreshMs = 1000) {
    this.#silences = silences;
    this.#refreshMs = refreshMs;
  }

  /** After a create or expire here: the next read sees it. */
  invalidate(): void {
    this.#readAt = Number.NEGATIVE_INFINITY;
  }

  async refresh(): Promise<void> {
    if (performance.now() - this.#readAt < this.#refreshMs) return;
    this.#reading ??= this.#silences
      .active()
      .then((active) => {
        this.#active = active.map((silence) => ({ id: silence.id, matchers: silence.matchers.map(compileMatcher) }));
        this.#readAt = performance.now();
      })
      .finally(() => {
        this.#reading = undefined;
      });
    await this.#reading;
  }

  /** The ids of the silences in force that match the alert. */
  silencing(alert: AlertRow): string[] {
    const labels = alertLabels(alert);
    return this.#active.filter((silence) => matchesAll(silence.matchers, labels)).map((silence) => silence.id);
  }

  annotate(json: string): string {
    if (this.#active.length === 0) return `${json.slice(0, -1)}${NOT_SILENCED}`;
    const ids = this.silencing(JSON.parse(json) as AlertRow);
    return `${json.slice(0, -1)},"silenced":${ids.length > 0},"silenced_by":${JSON.stringify(ids)}}`;
  }
}

/** The store as the API sees it: every alert JSON it hands out carries its silence state. */
export function silenceAwareStore(store: AlertStore, annotator: SilenceAnnotator): AlertStore {
  return {
    outbox: store.outbox,
    silences: store.silences,
    response: store.response,
    exceptions: store.exceptions,
    setDeliveryPlanner: (planner) => store.setDeliveryPlanner(planner),
    migrate: () => store.migrate(),
    upsertAlerts: (records) => store.upsertAlerts(records),
    listAlerts: async (query) => {
      const [page] = await Promise.all([store.listAlerts(query), annotator.refresh()]);
      return { ...page, rows: page.rows.map((row) => annotator.annotate(row)) };
    },
    getAlert: async (alertId) => {
      const [json] = await Promise.all([store.getAlert(alertId), annotator.refresh()]);
      return json === undefined ? undefined : annotator.annotate(json);
    },
    updateStatus: async (alertId, change) => {
      const [result] = await Promise.all([store.updateStatus(alertId, change), annotator.refresh()]);
      return result === undefined ? undefined : { ...result, json: annotator.annotate(result.json) };
    },
    stats: (query) => store.stats(query),
    purgeOlderThan: (cutoff, batchSize) => store.purgeOlderThan(cutoff, batchSize),
    subscribe: (listener) => store.subscribe((change) => listener({ ...change, json: annotator.annotate(change.json) })),
    check: () => store.check(),
    close: () => store.close(),
  };
}
