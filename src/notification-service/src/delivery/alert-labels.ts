/** The alert fields labels are read from: the same names in an AlertRecord and in the API row JSON. */
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
  /** k8s_audit, syslog, journald, synthetic; absent or null when the producer did not say. */
  origin?: string | null;
}

export type Labels = Record<string, string>;

/**
 * An alert as a flat label set, the vocabulary silences and routes match on (docs/outputs.md):
 * `alert_name`, `severity`, `rule_id`, `host`, `user`, `source_service`, `origin`, `environment`, `alert_id`, plus every
 * group-key field and every string in `metadata.labels`. The fixed names win over a group-key
 * field of the same name, so a producer cannot disguise an alert's severity.
 */
export function alertLabels(alert: LabelSource): Labels {
  const labels: Labels = {};
  const metadata = (alert.metadata ?? {}) as Record<string, unknown>;
  const extra = metadata.labels;
  if (extra !== null && typeof extra === 'object' && !Array.isArray(extra)) {
    for (const [name, value] of Object.entries(extra)) if (typeof value === 'string') labels[name] = value;
  }
  for (const [name, value] of Object.entries(alert.group_key ?? {})) if (typeof value === 'string') labels[name] = value;
  set(labels, 'alert_id', alert.alert_id);
  set(labels, 'alert_name', alert.alert_name);
  set(labels, 'alert_type', alert.alert_type);
  set(labels, 'severity', alert.severity);
  set(labels, 'rule_id', alert.rule_id);
  set(labels, 'rule_name', alert.rule_name);
  set(labels, 'host', alert.server_hostname);
  set(labels, 'user', alert.actor_id);
  set(labels, 'source_service', alert.source_service_name);
  set(labels, 'origin', alert.origin);
  set(labels, 'environment', typeof metadata.environment === 'string' ? metadata.environment : undefined);
  return labels;
}

function set(labels: Labels, name: string, value: string | null | undefined): void {
  if (typeof value === 'string' && value !== '') labels[name] = value;
  else delete labels[name];
}
