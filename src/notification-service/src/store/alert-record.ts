import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { type Alert, parseInstant } from '@auditflow/common';
import type { AlertRecord } from './alert-store.ts';

const MAX_COUNT = 2_147_483_647;

/**
 * Maps a validated alert onto the table's columns. Values PostgreSQL would
 * refuse but the contract allows are made storable here instead of poisoning
 * the message: an invalid client IP becomes NULL, NUL characters and lone
 * surrogates (rejected by TEXT and JSONB) are dropped or replaced.
 */
export function toAlertRecord(alert: Alert): AlertRecord {
  const timestamp = normaliseInstant(alert.timestamp);
  const rule = alert.analysis_rule;
  const actor = alert.triggered_by;
  const resource = alert.impacted_resource;
  const groupKey = alert.group_key ? (clean(alert.group_key) as Record<string, string>) : null;
  const ruleId = text(rule?.rule_id);
  return {
    alert_id: alert.alert_id.toLowerCase(),
    correlation_id: alert.correlation_id.toLowerCase(),
    timestamp,
    alert_name: text(alert.alert_name) ?? '',
    alert_type: text(alert.alert_type) ?? '',
    severity: text(alert.severity) ?? '',
    description: text(alert.description),
    source_service_name: text(alert.source_service_name),
    rule_id: ruleId,
    rule_name: text(rule?.rule_name),
    actor_type: text(actor?.actor_type),
    actor_id: text(actor?.actor_id),
    client_ip: storableIp(actor?.client_ip),
    resource_type: text(resource?.resource_type),
    resource_id: text(resource?.resource_id),
    server_hostname: text(resource?.server_hostname),
    action_observed: text(alert.action_observed),
    analysis_rule_details: rule ? (clean(rule) as object) : null,
    triggered_by_details: actor ? (clean(actor) as object) : null,
    impacted_resource_details: resource ? (clean(resource) as object) : null,
    metadata: (clean(alert.metadata ?? {}) as object) ?? {},
    raw_event_data: clean(alert.raw_event_data) as object,
    count: Math.min(alert.count ?? 1, MAX_COUNT),
    first_seen: alert.first_seen ? normaliseInstant(alert.first_seen) : timestamp,
    last_seen: alert.last_seen ? normaliseInstant(alert.last_seen) : timestamp,
    fingerprint: text(alert.fingerprint) ?? fingerprintOf(alert, ruleId, groupKey),
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

function text(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  return isClean(value) ? value : cleanString(value);
}

function cleanString(value: string): string {
  // PostgreSQL text cannot hold U+0000, and JSONB refuses unpaired surrogates.
  return value.includes('\u0000') ? value.replaceAll('\u0000', '').toWellFormed() : value.toWellFormed();
}

/** Copies only when something must change: almost every alert is clean, and copying it is pure cost. */
function clean(value: unknown): unknown {
  return isClean(value) ? value : cleanCopy(value);
}

function isClean(value: unknown): boolean {
  if (typeof value === 'string') return !value.includes('\u0000') && value.isWellFormed();
  if (Array.isArray(value)) return value.every(isClean);
  if (value !== null && typeof value === 'object') {
    for (const key in value) {
      if (!isClean(key) || !isClean((value as Record<string, unknown>)[key])) return false;
    }
  }
  return true;
}

function cleanCopy(value: unknown): unknown {
  if (typeof value === 'string') return cleanString(value);
  if (Array.isArray(value)) return value.map(cleanCopy);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[cleanString(key)] = cleanCopy(inner);
    return out;
  }
  return value;
}
