import { html } from '../../assets/js/html.js';
import { alertHref, field, originBadge, severityBadge, statusBadge, timeHtml } from '../../assets/js/render.js';
import type { AssetBundle } from '../http/assets.ts';
import { evidenceTimeline } from './evidence.ts';
import { layout } from './layout.ts';

export interface ActivityPageModel {
  assets: AssetBundle;
  params: URLSearchParams;
  activity?: Record<string, unknown>;
  problem?: string;
}

/** Everything AuditFlow saw from one host, user or address in a time range: its alerts and their evidence events. */
export function activityPage(model: ActivityPageModel): string {
  const subject = (['host', 'user', 'address'] as const)
    .filter((key) => model.params.get(key))
    .map((key) => `${key} ${model.params.get(key)}`)
    .join(', ');
  const activity = model.activity ?? {};
  const alerts = Array.isArray(activity['alerts']) ? (activity['alerts'] as Record<string, unknown>[]) : [];
  const events = Array.isArray(activity['events']) ? (activity['events'] as Record<string, unknown>[]) : [];
  const body =
    model.problem !== undefined
      ? html`<section class="panel panel-error" role="alert"><h2>This view cannot be shown</h2><p>${model.problem}</p></section>`
      : html`<p class="lead">From ${timeHtml(activity['since'])} to ${timeHtml(activity['until'])}.</p>
<section class="card" aria-labelledby="activity-alerts"><h2 id="activity-alerts">Alerts (${alerts.length})</h2>${
          alerts.length === 0
            ? html`<p class="muted">No alerts in this range.</p>`
            : html`<table class="activity-table" data-activity-alerts><thead><tr><th scope="col">Severity</th><th scope="col">Alert</th><th scope="col">Source</th><th scope="col">Status</th><th scope="col">Last seen</th></tr></thead><tbody>${alerts.map(
                (alert) =>
                  html`<tr><td>${severityBadge(alert['severity'])}</td><td><a href="${alertHref(alert['alert_id'])}">${field(alert, 'alert_name')}</a>${field(alert, 'origin') === 'synthetic' ? html` <span class="badge-synthetic">Demo</span>` : ''}</td><td>${originBadge(alert)}</td><td>${statusBadge(alert['status'])}</td><td>${timeHtml(alert['last_seen'])}</td></tr>`,
              )}</tbody></table>`
        }</section>
<section class="card" aria-labelledby="activity-events"><h2 id="activity-events">Events (${events.length})</h2>${
          events.length === 0 ? html`<p class="muted">No evidence events kept for this range.</p>` : evidenceTimeline({ events, total: events.length, complete: true }, '')
        }</section>`;
  return layout({
    title: `Activity of ${subject || '…'}`,
    assets: model.assets,
    data: { page: 'activity' },
    body: html`<p class="crumbs"><a href="/">← All alerts</a></p><div class="detail-head"><h1>Activity of ${subject || '…'}</h1></div>${body}`,
  });
}
