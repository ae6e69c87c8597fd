import { type Alert, type ExceptionEntry, exceptionMatches, isExceptionActive, wireAlertLabels } from '@auditflow/common/contracts';

/**
 * The exceptions in force, indexed by rule. `match` decides on the built alert with the shared
 * contract function, exactly as the notification API's preview decides on stored alerts.
 */
export class ExceptionSet {
  readonly entries: readonly ExceptionEntry[];
  readonly #byRule = new Map<string, ExceptionEntry[]>();

  constructor(entries: readonly ExceptionEntry[]) {
    this.entries = entries;
    for (const entry of entries) {
      const list = this.#byRule.get(entry.rule_id) ?? [];
      list.push(entry);
      this.#byRule.set(entry.rule_id, list);
    }
  }

  static readonly EMPTY = new ExceptionSet([]);

  get size(): number {
    return this.entries.length;
  }

  /** Entries not expired at `now`. */
  activeCount(now: number): number {
    return this.entries.filter((entry) => isExceptionActive(entry, now)).length;
  }

  /** The first active exception (file order) that matches the alert, or undefined. */
  match(ruleId: string, alert: () => Alert, now: number): ExceptionEntry | undefined {
    const candidates = this.#byRule.get(ruleId);
    if (candidates === undefined) return undefined;
    const labels = wireAlertLabels(alert());
    return candidates.find((entry) => isExceptionActive(entry, now) && exceptionMatches(entry, labels));
  }
}
