import { html, type SafeHtml } from '../../assets/js/html.js';
import { field, severityBadge, statusBadge, statusPanelHtml, timeHtml } from '../../assets/js/render.js';
import type { AlertRow } from '../backend/notification-client.ts';
import type { AssetBundle } from '../http/assets.ts';
import { layout } from './layout.ts';

export interface DetailPageModel {
  assets: AssetBundle;
  alert: AlertRow;
  actionsEnabled: boolean;
}

type Fact = [label: string, value: SafeHtml | string];

export function detailPage(model: DetailPageModel): string {
  const { alert } = model;
  const metadata = record(alert['metadata']);
  const name = field(alert, 'alert_name') || '(unnamed alert)';
  return layout({
    title: name,
    script: 'detail',
    assets: model.assets,
    data: { page: 'detail', 'alert-id': field(alert, 'alert_id'), actions: model.actionsEnabled ? 'enabled' : 'disabled' },
    body: html`<p class="crumbs"><a href="/" data-back>← All alerts</a></p>
<div class="detail-head">
<h1>${name}</h1>
<p class="detail-badges">${severityBadge(alert['severity'])} <span data-status-badge>${statusBadge(alert['status'])}</span></p>
${field(alert, 'description') ? html`<p class="lead">${field(alert, 'description')}</p>` : ''}
</div>
<div class="detail-grid">
${card('What happened', [
  ['Rule', ruleText(alert)],
  ['Action observed', field(alert, 'action_observed')],
  ['Type', field(alert, 'alert_type')],
  ['Source service', field(alert, 'source_service_name')],
  ['Environment', text(metadata['environment'])],
  ['Tags', tags(metadata['tags'])],
])}
${card('Who and where', [
  ['Actor', [field(alert, 'actor_type'), field(alert, 'actor_id')].filter(Boolean).join(' · ')],
  ['Client IP', field(alert, 'client_ip')],
  ['Resource', [field(alert, 'resource_type'), field(alert, 'resource_id')].filter(Boolean).join(' · ')],
  ['Host', field(alert, 'server_hostname')],
])}
${card('Occurrences', [
  ['Count', field(alert, 'count') || '1'],
  ['First seen', timeHtml(alert['first_seen'] ?? alert['timestamp'])],
  ['Last seen', timeHtml(alert['last_seen'] ?? alert['timestamp'])],
  ['Alert time', timeHtml(alert['timestamp'])],
  ['Received', timeHtml(alert['received_at'])],
])}
<section class="card card-status" aria-labelledby="status-heading" data-status-panel>${statusPanelHtml(alert, { actionsEnabled: model.actionsEnabled })}</section>
${remediation(metadata)}
${card('Identifiers', [
  ['Alert ID', html`<code>${field(alert, 'alert_id')}</code>`],
  ['Correlation ID', html`<code>${field(alert, 'correlation_id')}</code>`],
  ['Fingerprint', field(alert, 'fingerprint') ? html`<code>${field(alert, 'fingerprint')}</code>` : ''],
  ['Group key', jsonInline(alert['group_key'])],
])}
</div>
${jsonSection('Triggering event', 'raw-event', alert['raw_event_data'])}
${jsonSection('Rule details', 'rule-details', alert['analysis_rule_details'])}
${jsonSection('Actor details', 'actor-details', alert['triggered_by_details'])}
${jsonSection('Resource details', 'resource-details', alert['impacted_resource_details'])}`,
  });
}

function card(title: string, facts: Fact[]): SafeHtml {
  const shown = facts.filter(([, value]) => (value instanceof Object ? value.toString() !== '' : value !== ''));
  const id = `card-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return html`<section class="card" aria-labelledby="${id}"><h2 id="${id}">${title}</h2>${
    shown.length === 0
      ? html`<p class="muted">Not recorded.</p>`
      : html`<dl class="facts">${shown.map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`)}</dl>`
  }</section>`;
}

function ruleText(alert: AlertRow): string {
  const id = field(alert, 'rule_id');
  const name = field(alert, 'rule_name');
  if (id && name) return `${name} (${id})`;
  return id || name;
}

function remediation(metadata: Record<string, unknown>): SafeHtml {
  const guidance = text(metadata['remediation_guidance']);
  const playbook = safeHttpUrl(metadata['playbook_url']);
  const rawPlaybook = text(metadata['playbook_url']);
  if (!guidance && !rawPlaybook) return html``;
  return html`<section class="card card-remediation" aria-labelledby="card-remediation"><h2 id="card-remediation">Remediation</h2>
${guidance ? html`<p>${guidance}</p>` : ''}
${
  playbook
    ? html`<p><a href="${playbook}" rel="noopener noreferrer nofollow" target="_blank">Open the playbook<span class="visually-hidden"> (opens in a new tab)</span></a> <span class="muted url">${playbook}</span></p>`
    : rawPlaybook
      ? html`<p class="muted">Playbook (not a web link): <code>${rawPlaybook}</code></p>`
      : ''
}
</section>`;
}

function jsonSection(title: string, id: string, value: unknown): SafeHtml {
  if (value === undefined || value === null) return html``;
  if (typeof value === 'object' && Object.keys(value).length === 0) return html``;
  return html`<section class="card card-json" aria-labelledby="${id}"><h2 id="${id}">${title}</h2><pre tabindex="0" aria-label="${title} as JSON"><code>${JSON.stringify(value, null, 2)}</code></pre></section>`;
}

function jsonInline(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object' && Object.keys(value).length === 0) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function tags(value: unknown): SafeHtml | string {
  if (!Array.isArray(value) || value.length === 0) return '';
  return html`<span class="tags">${value.map((tag) => html`<span class="tag">${String(tag)}</span> `)}</span>`;
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Only http(s) URLs become links: a javascript: or data: URL in alert metadata must stay text. */
export function safeHttpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}
