import { Counter, Gauge, type Registry } from '@auditflow/common';

/** The exceptions' metrics (docs/observability.md), on the instance's registry. */
export class ExceptionMetrics {
  /** Alert versions not published because an exception matched: kind new = an episode never raised. */
  readonly excepted: Counter<'rule_id' | 'exception' | 'kind'>;
  readonly reloads: Counter<'result'>;
  readonly fileValid: Gauge;
  readonly active: Gauge;

  constructor(registry: Registry, activeCount: () => number) {
    const registers = [registry];
    this.excepted = new Counter({
      name: 'audit_analysis_alerts_excepted_total',
      help: 'Alert publishes dropped because an exception matched (kind new: an alert never raised; update: a repeat of one)',
      labelNames: ['rule_id', 'exception', 'kind'],
      registers,
    });
    this.reloads = new Counter({ name: 'audit_analysis_exceptions_reloads_total', help: 'Reads of a changed exceptions file, by result', labelNames: ['result'], registers });
    this.fileValid = new Gauge({
      name: 'audit_analysis_exceptions_file_valid',
      help: '0 while the exceptions file on disk is invalid and the previous exceptions stay in force',
      registers,
    });
    this.active = new Gauge({
      name: 'audit_analysis_exceptions_active',
      help: 'Exceptions in force (loaded and not expired)',
      registers,
      collect() {
        this.set(activeCount());
      },
    });
    for (const result of ['ok', 'error']) this.reloads.inc({ result }, 0);
    this.fileValid.set(1);
  }
}
