import { alertLabels } from '../alert-labels.ts';
import type { AlertmanagerOutput } from '../outputs-config.ts';
import { type AlertRow, alertLink, isResolved, type OutputSender, post } from './notification.ts';

/**
 * Alertmanager API v2 (`POST /api/v2/alerts`). Labels identify an alert there, so each carries
 * `alertname` and its `alert_id`: a retried post folds into the same Alertmanager alert. A resolved
 * alert is posted with `endsAt`; a firing one without, so Alertmanager's resolve_timeout ends it if
 * AuditFlow stops re-posting.
 */
export function alertmanagerSender(output: AlertmanagerOutput): OutputSender {
  return {
    send: (notification, signal) => {
      const body = notification.items.map((item) => alertmanagerAlert(output, item.alert, isResolved(item)));
      return post(output, `${output.url}/api/v2/alerts`, JSON.stringify(body), { 'content-type': 'application/json' }, signal);
    },
  };
}

export function alertmanagerAlert(output: AlertmanagerOutput, alert: AlertRow, resolved: boolean): Record<string, unknown> {
  const labels: Record<string, string> = { alertname: alert.alert_name, ...alertLabels(alert) };
  const annotations: Record<string, string> = {
    summary: alert.alert_name,
    count: String(alert.count),
    first_seen: alert.first_seen,
    last_seen: alert.last_seen,
    status: alert.status,
  };
  if (alert.description) annotations.description = alert.description;
  const link = alertLink(output.linkUrl, alert);
  return {
    labels,
    annotations,
    startsAt: alert.first_seen,
    ...(resolved ? { endsAt: alert.status_changed_at ?? new Date().toISOString() } : {}),
    ...(link === undefined ? {} : { generatorURL: link }),
  };
}

