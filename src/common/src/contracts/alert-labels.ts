import type { Alert } from './alert.ts';
import { enrichmentLabels } from './enrichment.ts';

/** The alert fields labels are read from: the same names in a stored alert row (the API's row JSON) and its record. */
export interface LabelSource {
  alert_id: string;
  alert_name: string;
  alert_type?: string | null;
  severity: string;
  rule_id: string | null;
  rule_name?: string | null;
  server_hostname: string | null;
  actor_id: string | null;
  source_service_name: string | null;
  metadata?: object | null;
  group_key: Record<string, string> | null;
  /** The triggering event; its `enrichment` (computed by the analysis) gives the `enrichment.*` labels. */
  raw_event_data?: object | null;
}

export type Labels = Record<string, string>;

/**
 * An alert as a flat label set, the vocabulary silences, routes and exceptions match on
 * (docs/outputs.md): `alert_name`, `severity`, `rule_id`, `host`, `user`, `source_service`,
 * `environment`, `alert_id`, plus every group-key field, every string in `metadata.labels` and the
 * enrichment of the triggering event (`enrichment.ip.country`, `enrichment.host.role`, ...:
 * docs/enrichment.md). The fixed names win over a group-key field of the same name, so a producer
 * cannot disguise an alert's severity, and the enrichment names win over metadata and group-key
 * fields of the same name.
 */
export function alertLabels(alert: LabelSource): Labels {
  const labels: Labels = {};
  const metadata = (alert.metadata ?? {}) as Record<string, unknown>;
  const extra = metadata.labels;
  if (extra !== null && typeof extra === 'object' && !Array.isArray(extra)) {
    for (const [name, value] of Object.entries(extra)) if (typeof value === 'string') labels[name] = value;
  }
  for (const [name, value] of Object.entries(alert.group_key ?? {})) if (typeof value === 'string') labels[name] = value;
  for (const name of Object.keys(labels)) if (name.startsWith('enrichment.')) delete labels[name];
  Object.assign(labels, enrichmentLabels((alert.raw_event_data as { enrichment?: unknown } | null | undefined)?.enrichment));
  set(labels, 'alert_id', alert.alert_id);
  set(labels, 'alert_name', alert.alert_name);
  set(labels, 'alert_type', alert.alert_type);
  set(labels, 'severity', alert.severity);
  set(labels, 'rule_id', alert.rule_id);
  set(labels, 'rule_name', alert.rule_name);
  set(labels, 'host', alert.server_hostname);
  set(labels, 'user', alert.actor_id);
  set(labels, 'source_service', alert.source_service_name);
  set(labels, 'environment', typeof metadata.environment === 'string' ? metadata.environment : undefined);
  return labels;
}

/**
 * The labels of an alert as it travels on `audit_alerts`, before it is stored: the same columns
 * the notification service stores it under (toAlertRecord), so the analysis and the stored rows
 * agree on every label (a test holds the two in step).
 */
export function wireAlertLabels(alert: Alert): Labels {
  return alertLabels({
    alert_id: alert.alert_id.toLowerCase(),
    alert_name: alert.alert_name,
    alert_type: alert.alert_type,
    severity: alert.severity,
    rule_id: alert.analysis_rule?.rule_id ?? null,
    rule_name: alert.analysis_rule?.rule_name ?? null,
    server_hostname: alert.impacted_resource?.server_hostname ?? null,
    actor_id: alert.triggered_by?.actor_id ?? null,
    source_service_name: alert.source_service_name ?? null,
    metadata: alert.metadata ?? {},
    group_key: alert.group_key ?? null,
    // Stored the same way: a top-level enrichment goes with the triggering event (toAlertRecord).
    raw_event_data: alert.enrichment === undefined ? alert.raw_event_data : { ...alert.raw_event_data, enrichment: alert.enrichment },
  });
}

function set(labels: Labels, name: string, value: string | null | undefined): void {
  if (typeof value === 'string' && value !== '') labels[name] = value;
  else delete labels[name];
}
