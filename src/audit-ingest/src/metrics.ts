import { Counter, Gauge, type Registry } from '@auditflow/common';

export interface IngestMetrics {
  received: Counter<'source'>;
  published: Counter<'source'>;
  ignored: Counter<'source'>;
  deadLettered: Counter<'source' | 'code'>;
  rejected: Counter<'reason'>;
  udpDropped: Counter<'reason'>;
  inFlight: Gauge;
  connectionStatus: Gauge;
}

/** Series of audit-ingest (docs/observability.md); `source` is syslog, journald or k8s_audit, so cardinality stays bounded. */
export function createIngestMetrics(registry: Registry): IngestMetrics {
  const registers = [registry];
  return {
    received: new Counter({ name: 'audit_ingest_records_received_total', help: 'Records received, before normalisation', labelNames: ['source'], registers }),
    published: new Counter({ name: 'audit_ingest_events_published_total', help: 'Normalised events the broker confirmed', labelNames: ['source'], registers }),
    ignored: new Counter({
      name: 'audit_ingest_records_ignored_total',
      help: 'Well-formed records that carry nothing the rules use (other programs, PAM restatements, non-final audit stages)',
      labelNames: ['source'],
      registers,
    }),
    deadLettered: new Counter({
      name: 'audit_ingest_dead_letter_total',
      help: 'Records that could not be normalised, dead-lettered with the reason',
      labelNames: ['source', 'code'],
      registers,
    }),
    rejected: new Counter({
      name: 'audit_ingest_rejected_total',
      help: 'HTTP requests or syslog reads refused (429/503/401/413), so the sender retries',
      labelNames: ['reason'],
      registers,
    }),
    udpDropped: new Counter({
      name: 'audit_ingest_udp_dropped_total',
      help: 'Syslog UDP datagrams lost because the broker did not confirm them (UDP cannot push back)',
      labelNames: ['reason'],
      registers,
    }),
    inFlight: new Gauge({ name: 'audit_ingest_in_flight_events', help: 'Events awaiting a broker confirm', registers }),
    connectionStatus: new Gauge({ name: 'audit_ingest_rabbitmq_connection_status', help: '1 while connected to RabbitMQ, 0 otherwise', registers }),
  };
}
