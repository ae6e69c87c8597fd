import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { type Alert, parseInstant } from '@auditflow/common';
import type { AlertRecord } from './alert-store.ts';

/**
 * Maps a validated alert onto the table's columns, value for value: nothing is
 * clamped, stripped or replaced. What a column cannot hold is decided before
 * this (unstorableTextAt: refused) or kept elsewhere (client_ip: see
 * clientIpOutsideColumn), never changed silently.
 */
export function toAlertRecord(alert: Alert): AlertRecord {
  const timestamp = normaliseInstant(alert.timestamp);
  const rule = alert.analysis_rule;
  const actor = alert.triggered_by;
  const resource = alert.impacted_resource;
  const groupKey = alert.group_key ?? null;
  const ruleId = rule?.rule_id ?? null;
  return {
    alert_id: alert.alert_id.toLowerCase(),
    correlation_id: alert.correlation_id.toLowerCase(),
    timestamp,
    alert_name: alert.alert_name,
    alert_type: alert.alert_type,
    severity: alert.severity,
    description: alert.description ?? null,
    source_service_name: alert.source_service_name ?? null,
    rule_id: ruleId,
    rule_name: rule?.rule_name ?? null,
    actor_type: actor?.actor_type ?? null,
    actor_id: actor?.actor_id ?? null,
    client_ip: storableIp(actor?.client_ip),
    resource_type: resource?.resource_type ?? null,
    resource_id: resource?.resource_id ?? null,
    server_hostname: resource?.server_hostname ?? null,
    action_observed: alert.action_observed ?? null,
    analysis_rule_details: rule ?? null,
    triggered_by_details: actor ?? null,
    impacted_resource_details: resource ?? null,
    metadata: alert.metadata ?? {},
    raw_event_data: withEnrichment(alert),
    count: alert.count ?? 1,
    first_seen: alert.first_seen ? normaliseInstant(alert.first_seen) : timestamp,
    last_seen: alert.last_seen ? normaliseInstant(alert.last_seen) : timestamp,
    fingerprint: alert.fingerprint ?? fingerprintOf(alert, ruleId, groupKey),
    group_key: groupKey,
  };
}

/** Rejects instants JavaScript cannot read (the contract's format check is syntactic only). */
function normaliseInstant(value: string): string {
  parseInstant(value);
  return value.toUpperCase();
}

/**
 * Identity of the condition an alert reports (Alertmanager's label-set idea):
 * the producer's fingerprint when it sends one, else rule id plus group key,
 * else rule id plus who/where.
 */
export function fingerprintOf(alert: Alert, ruleId: string | null, groupKey: Record<string, string> | null): string {
  const parts: unknown[] = [ruleId ?? alert.alert_name];
  if (groupKey) parts.push(Object.entries(groupKey).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  else
    parts.push(
      alert.triggered_by?.actor_id ?? null,
      alert.impacted_resource?.server_hostname ?? null,
      alert.impacted_resource?.resource_id ?? null,
    );
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/** The original's way of saying "no address" (reference 4.3): stored as NULL, not a change. */
const NO_ADDRESS = new Set(['', 'N/A']);

/** INET accepts an address with an optional prefix length; anything else is stored as NULL. */
export function storableIp(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (trimmed === '' || trimmed.includes('%')) return null;
  const [address, prefix, extra] = trimmed.split('/');
  if (extra !== undefined || address === undefined) return null;
  const family = isIP(address);
  if (family === 0) return null;
  if (prefix !== undefined) {
    if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (family === 4 ? 32 : 128)) return null;
  }
  return trimmed;
}

/**
 * A client_ip that is not an address cannot go into the INET column, and
 * refusing the alert for it would let any producer hide its alerts behind a
 * malformed address. So the alert is stored, the column is NULL and the exact
 * text stays in triggered_by_details.client_ip; the consumer counts it
 * (notification_alert_values_outside_column_total). Returns that text, or
 * undefined when the column holds the value (or there was none).
 */
export function clientIpOutsideColumn(record: AlertRecord): string | undefined {
  const sent = (record.triggered_by_details as { client_ip?: unknown } | null)?.client_ip;
  if (record.client_ip !== null || typeof sent !== 'string' || NO_ADDRESS.has(sent.trim())) return undefined;
  return sent;
}

/**
 * PostgreSQL TEXT cannot hold U+0000 and JSONB refuses it and unpaired
 * surrogates, so an alert containing either cannot be stored as sent.
 * Returns the JSON pointer of the first such string (key or value), if any;
 * the consumer dead-letters the alert with it (reason `unstorable`).
 */
export function unstorableTextAt(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed() ? path || '/' : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableTextAt(value[i], `${path}/${i}`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const key in value) {
      const here = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (unstorableTextAt(key) !== undefined) return here;
      const found = unstorableTextAt((value as Record<string, unknown>)[key], here);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * The alert's enrichment is stored with the triggering event it describes, in the
 * raw_event_data column: the analysis already puts it there, so for its alerts this
 * changes nothing, and a peer that sends only the top-level `enrichment` gets it
 * stored (and shown, and matched by routes and silences) the same way.
 */
function withEnrichment(alert: Alert): Alert['raw_event_data'] {
  if (alert.enrichment === undefined) return alert.raw_event_data;
  return { ...alert.raw_event_data, enrichment: alert.enrichment };
}
