import { Counter, Gauge, Histogram, type Registry } from '@auditflow/common';

/** The service's metrics (docs/observability.md), registered on the instance's own registry. */
export interface NotificationMetrics {
  ingested: Counter<'outcome'>;
  deadLettered: Counter<'reason'>;
  valuesOutsideColumn: Counter<'field'>;
  batchSize: Histogram;
  purged: Counter;
  databaseUp: Gauge;
  rabbitmqUp: Gauge;
  sseClients: Gauge;
  statusChanges: Counter<'status'>;
  deliveries: Counter<'output' | 'outcome'>;
  responseDecisions: Counter<'output' | 'mode' | 'outcome'>;
}

export function createNotificationMetrics(registry: Registry): NotificationMetrics {
  const registers = [registry];
  return {
    ingested: new Counter({
      name: 'notification_alerts_ingested_total',
      help: 'Alerts consumed and committed, by outcome (inserted, updated, duplicate)',
      labelNames: ['outcome'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'notification_dead_letter_total',
      help: 'Alerts dead-lettered because they can never be stored, by reason',
      labelNames: ['reason'],
      registers,
    }),
    valuesOutsideColumn: new Counter({
      name: 'notification_alert_values_outside_column_total',
      help: 'Alerts stored with a value its typed column cannot hold, kept verbatim in the details JSON instead, by field',
      labelNames: ['field'],
      registers,
    }),
    batchSize: new Histogram({
      name: 'notification_ingest_batch_size',
      help: 'Alerts written per database transaction',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500],
      registers,
    }),
    purged: new Counter({ name: 'notification_alerts_purged_total', help: 'Alerts deleted by the retention job', registers }),
    databaseUp: new Gauge({ name: 'notification_database_up', help: '1 when the last database call succeeded', registers }),
    rabbitmqUp: new Gauge({
      name: 'notification_rabbitmq_connection_status',
      help: '1 when connected to the broker',
      registers,
    }),
    sseClients: new Gauge({ name: 'notification_sse_clients', help: 'Open /alerts/stream connections', registers }),
    statusChanges: new Counter({
      name: 'notification_alert_status_changes_total',
      help: 'Alert status changes made through the API, by new status',
      labelNames: ['status'],
      registers,
    }),
    deliveries: new Counter({
      name: 'notification_deliveries_total',
      help: 'Outbox deliveries settled, by output and outcome (sent, failed, retried, silenced)',
      labelNames: ['output', 'outcome'],
      registers,
    }),
    responseDecisions: new Counter({
      name: 'notification_response_decisions_total',
      help: 'Response decisions (crowdsec outputs), by output, mode and outcome (recorded, skipped, pushed, push_failed, undone)',
      labelNames: ['output', 'mode', 'outcome'],
      registers,
    }),
  };
}
