import type { FromSchema } from 'json-schema-to-ts';
import { enrichmentSchema } from './enrichment.ts';

const shortText = (max: number) => ({ type: 'string', maxLength: max }) as const;
const nullableText = (max: number) => ({ type: ['string', 'null'], maxLength: max }) as const;

/**
 * The alert on `audit_alerts`: every field of the original (section 1.3 of the
 * reference) with its meaning kept, plus optional aggregation fields. String
 * limits match the PostgreSQL columns, so a valid alert always fits the table.
 */
export const alertSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://auditflow.dev/schemas/alert.schema.json',
  title: 'AuditFlow alert',
  type: 'object',
  required: ['alert_id', 'timestamp', 'alert_name', 'alert_type', 'severity', 'correlation_id', 'raw_event_data'],
  properties: {
    alert_id: { type: 'string', format: 'uuid', description: 'stable for (rule, group key, episode): a repeat updates, never duplicates' },
    timestamp: { type: 'string', format: 'date-time', maxLength: 64 },
    alert_name: { type: 'string', minLength: 1, maxLength: 255 },
    alert_type: { type: 'string', minLength: 1, maxLength: 50 },
    severity: { type: 'string', minLength: 1, maxLength: 50 },
    description: nullableText(10_000),
    source_service_name: nullableText(255),
    analysis_rule: {
      type: 'object',
      properties: { rule_id: shortText(255), rule_name: shortText(255), rule_description: shortText(4096) },
    },
    triggered_by: {
      type: 'object',
      properties: { actor_type: nullableText(50), actor_id: nullableText(255), client_ip: nullableText(64) },
    },
    impacted_resource: {
      type: 'object',
      properties: { resource_type: nullableText(50), resource_id: nullableText(255), server_hostname: nullableText(255) },
    },
    action_observed: nullableText(255),
    correlation_id: { type: 'string', format: 'uuid' },
    raw_event_data: { type: 'object' },
    metadata: { type: 'object' },
    schema_version: { type: 'integer', minimum: 1 },
    fingerprint: { type: 'string', maxLength: 128, description: 'hash of rule id and group key values' },
    group_key: { type: 'object', additionalProperties: { type: 'string' } },
    count: { type: 'integer', minimum: 1, maximum: 2_147_483_647, description: 'matching events folded into this alert (a 32-bit count, as the table stores it)' },
    first_seen: { type: 'string', format: 'date-time' },
    last_seen: { type: 'string', format: 'date-time' },
    event_ids: { type: 'array', maxItems: 50, items: { type: 'string', maxLength: 64 } },
    enrichment: { ...enrichmentSchema, description: 'country, ASN and host owner/role of the triggering event, computed by the analysis (docs/enrichment.md)' },
  },
} as const;

export type Alert = FromSchema<typeof alertSchema>;

export const ALERT_SCHEMA_VERSION = 2;
