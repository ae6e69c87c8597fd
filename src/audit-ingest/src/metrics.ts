import { Counter, Gauge, type Registry } from '@auditflow/common';

export interface IngestMetrics {
  received: Counter<'source'>;
  published: Counter<'source'>;
  ignored: Counter<'source'>;
  deadLettered: Counter<'source' | 'code'>;
  rejected: Counter<'reason'>;
  udpDropped: Counter<'reason'>;
  clockSkew: Counter<'direction'>;
  hostMismatch: Counter<'transport'>;
  syslogRefused: Counter<'transport' | 'reason'>;
  syslogConnections: Gauge;
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
    clockSkew: new Counter({
      name: 'audit_ingest_clock_skew_total',
      help: 'Events whose claimed time lay outside the allowed skew of their receive time; they carry the receive time and clock_skew',
      labelNames: ['direction'],
      registers,
    }),
    hostMismatch: new Counter({
      name: 'audit_ingest_host_mismatch_total',
      help: 'Syslog events whose claimed HOSTNAME does not fit the sender (address map or client certificate); flagged source.host_mismatch',
      labelNames: ['transport'],
      registers,
    }),
    syslogRefused: new Counter({
      name: 'audit_ingest_syslog_refused_total',
      help: 'Syslog connections or datagrams refused: sender not allow-listed, too many connections, or idle too long',
      labelNames: ['transport', 'reason'],
      registers,
    }),
    syslogConnections: new Gauge({ name: 'audit_ingest_syslog_connections', help: 'Open syslog TCP and TLS connections', registers }),
    inFlight: new Gauge({ name: 'audit_ingest_in_flight_events', help: 'Events awaiting a broker confirm', registers }),
    connectionStatus: new Gauge({ name: 'audit_ingest_rabbitmq_connection_status', help: '1 while connected to RabbitMQ, 0 otherwise', registers }),
  };
}
