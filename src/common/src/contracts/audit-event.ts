import type { FromSchema } from 'json-schema-to-ts';

/**
 * The audit event on `audit_events`, wire-compatible with the original
 * generator (section 1.2 of the reference). This object is the single source
 * of truth: schemas/audit-event.schema.json is exported from it and the
 * TypeScript type is derived from it.
 */
export const auditEventSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://auditflow.dev/schemas/audit-event.schema.json',
  title: 'AuditFlow audit event',
  type: 'object',
  required: [
    'event_id',
    'timestamp',
    'source_service',
    'server_hostname',
    'event_type',
    'severity',
    'user_id',
    'action_result',
    'details',
  ],
  properties: {
    event_id: { type: 'string', format: 'uuid', description: 'unique id; also the correlation id of every alert it feeds' },
    timestamp: { type: 'string', format: 'date-time', maxLength: 64, description: 'ISO-8601 with a zone, e.g. 2025-07-01T12:34:56.789Z' },
    source_service: { type: 'string', minLength: 1, maxLength: 255 },
    server_hostname: { type: 'string', minLength: 1, maxLength: 255 },
    event_type: { type: 'string', minLength: 1, maxLength: 128 },
    severity: { type: 'string', minLength: 1, maxLength: 32 },
    user_id: { type: 'string', minLength: 1, maxLength: 255 },
    action_result: { type: 'string', minLength: 1, maxLength: 64 },
    details: {
      type: 'object',
      description: 'template-specific fields; the file path is details.resource and the source address details.ip_address',
      properties: {
        resource: { type: 'string', maxLength: 4096 },
        ip_address: { type: 'string', maxLength: 64 },
        protocol: { type: 'string', maxLength: 32 },
        reason: { type: 'string', maxLength: 1024 },
        command: { type: 'string', maxLength: 4096 },
      },
    },
    resource: { type: 'string', maxLength: 4096, description: 'the top-level form the original analysis reads; the generator sends it on file events besides details.resource' },
    client_ip: { type: 'string', maxLength: 64, description: 'the top-level form the original analysis reads; the generator sends it on file events besides details.resource' },
    scenario: { type: 'string', maxLength: 64, description: 'set on events a generator scenario produced' },
    source: {
      type: 'object',
      description:
        'where the event came from: set by audit-ingest on events normalised from a real source (syslog line, journald entry, Kubernetes audit event), and by the generator (kind synthetic) on the demo events it makes up',
      required: ['kind'],
      properties: {
        kind: { type: 'string', enum: ['syslog', 'journald', 'k8s_audit', 'synthetic'] },
        host: { type: 'string', maxLength: 255, description: 'the host (or cluster) that wrote the record' },
        transport: { type: 'string', maxLength: 32, description: 'tcp, tls, udp, http or https' },
        peer: { type: 'string', maxLength: 128, description: 'network address the record came from' },
        program: {
          type: 'string',
          maxLength: 128,
          description: 'syslog APP-NAME or journald SYSLOG_IDENTIFIER; for synthetic events what made it up (loop, scenario, generate_event)',
        },
        original: {
          type: ['string', 'object'],
          description: 'the record as received: the syslog line, or the journald/audit JSON object',
        },
        truncated: { type: 'boolean', description: 'true when original had to be shortened to fit the event size limit' },
      },
    },
  },
} as const;

export type AuditEvent = FromSchema<typeof auditEventSchema>;

/** Messages larger than this are dead-lettered as oversized instead of parsed. */
export const MAX_EVENT_BYTES = 64 * 1024;

/** The file path an event refers to: `details.resource`, or the top-level `resource` the original reads. */
export function eventResource(event: AuditEvent): string | undefined {
  return event.details.resource ?? event.resource;
}

/** The source address of an event: `details.ip_address`, or the legacy top-level `client_ip`. */
export function eventClientIp(event: AuditEvent): string | undefined {
  return event.details.ip_address ?? event.client_ip;
}
