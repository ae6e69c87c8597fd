import { html, type SafeHtml } from '../../assets/js/html.js';
import { field, severityBadge, statusBadge, statusPanelHtml, timeHtml } from '../../assets/js/render.js';
import type { AlertRow } from '../backend/notification-client.ts';
import type { AssetBundle } from '../http/assets.ts';
import { contextSection } from './context-section.ts';
import { exceptionSection } from './exception-section.ts';
import { layout } from './layout.ts';
import { type ResponseSectionModel, responseSection } from './response-section.ts';

export interface DetailPageModel {
  assets: AssetBundle;
  alert: AlertRow;
  actionsEnabled: boolean;
  /** The alert's deliveries, or why they could not be shown. */
  deliveries?: Record<string, unknown>[] | string;
  /** The alert's response decisions and their history, or why they could not be shown. */
  response?: ResponseSectionModel;
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
<p class="detail-badges">${severityBadge(alert['severity'])} <span data-status-badge>${statusBadge(alert['status'])}</span>${silencedNote(alert)} <a class="btn btn-small" href="/silences/new?alert=${encodeURIComponent(field(alert, 'alert_id'))}">Silence alerts like this</a></p>
${field(alert, 'description') ? html`<p class="lead">${field(alert, 'description')}</p>` : ''}
</div>
<div class="detail-grid">
${card('What happened', [
  ['Rule', ruleText(alert)],
  ['Rule description', text(record(alert['analysis_rule_details'])['rule_description'])],
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
${contextSection(alert)}
${card('Occurrences', occurrences(alert))}
<section class="card card-status" aria-labelledby="status-heading" data-status-panel>${statusPanelHtml(alert, { actionsEnabled: model.actionsEnabled, responseEvents: typeof model.response === 'object' ? model.response.events : undefined })}</section>
${remediation(metadata)}
${card('Identifiers', [
  ['Alert ID', html`<code>${field(alert, 'alert_id')}</code>`],
  ['Correlation ID', html`<code>${field(alert, 'correlation_id')}</code>`],
  ['Fingerprint', field(alert, 'fingerprint') ? html`<code>${field(alert, 'fingerprint')}</code>` : ''],
])}
${groupKeyCard(alert['group_key'])}
${deliveriesCard(model.deliveries)}
${responseSection(model.response, model.actionsEnabled)}
</div>
${exceptionSection(alert, model.actionsEnabled)}
${jsonSection('Triggering event', 'raw-event', alert['raw_event_data'])}`,
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
  // Collapsed: the cards above already show what matters; the raw event is for digging.
  return html`<details class="card card-json" data-raw><summary><h2 id="${id}">${title}</h2> <span class="muted">raw JSON</span></summary><pre tabindex="0" aria-label="${title} as JSON"><code>${JSON.stringify(value, null, 2)}</code></pre></details>`;
}

/** One timestamp when the alert happened once; the episode bounds when it repeated. */
function occurrences(alert: AlertRow): Fact[] {
  const count = Number(alert['count'] ?? 1) || 1;
  const first = alert['first_seen'] ?? alert['timestamp'];
  const last = alert['last_seen'] ?? alert['timestamp'];
  const facts: Fact[] =
    count <= 1 || String(first) === String(last)
      ? [['Seen', timeHtml(last)]]
      : [
          ['Count', `${count} events`],
          ['First seen', timeHtml(first)],
          ['Last seen', timeHtml(last)],
        ];
  // Only worth a line when the alert arrived noticeably later than it happened.
  const lag = Date.parse(String(alert['received_at'] ?? '')) - Date.parse(String(last ?? ''));
  if (lag > 60_000) facts.push(['Received', timeHtml(alert['received_at'])]);
  return facts;
}

const GROUP_LABELS: Record<string, string> = {
  user_id: 'User',
  actor_id: 'User',
  server_hostname: 'Host',
  host: 'Host',
  client_ip: 'Client IP',
  source_ip: 'Source IP',
  resource_id: 'Resource',
  rule_id: 'Rule',
};

/** The fields the alert was grouped by, labelled, instead of a JSON object. */
function groupKeyCard(value: unknown): SafeHtml {
  const entries = Object.entries(record(value)).filter(([, v]) => v !== null && v !== undefined && v !== '');
  if (entries.length === 0) return html``;
  return card(
    'Grouped by',
    entries.map(([key, v]): Fact => [GROUP_LABELS[key] ?? humanize(key), typeof v === 'object' ? JSON.stringify(v) : String(v)]),
  );
}

function humanize(key: string): string {
  const words = key.replace(/[_.-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function silencedNote(alert: AlertRow): SafeHtml | string {
  if (alert['silenced'] !== true) return '';
  const ids = Array.isArray(alert['silenced_by']) ? alert['silenced_by'].map(String) : [];
  return html` <a class="status status-silenced" href="/silences${ids[0] ? `?highlight=${encodeURIComponent(ids[0])}` : ''}" title="stored and shown, not delivered">Silenced</a>`;
}

const DELIVERY_STATES = ['pending', 'sent', 'failed', 'silenced'];

/** Which outputs were told about the alert, when, and how it went. */
function deliveriesCard(deliveries: Record<string, unknown>[] | string | undefined): SafeHtml {
  if (deliveries === undefined) return html``;
  const body =
    typeof deliveries === 'string'
      ? html`<p class="muted" data-deliveries-problem>Deliveries cannot be shown: ${deliveries}</p>`
      : deliveries.length === 0
        ? html`<p class="muted">No deliveries: no output route matched this alert.</p>`
        : html`<table class="deliveries"><thead><tr><th scope="col">Output</th><th scope="col">Result</th><th scope="col">When</th><th scope="col">Attempts</th></tr></thead><tbody>${deliveries.map(
            (d) => {
              const state = DELIVERY_STATES.includes(field(d, 'status')) ? field(d, 'status') : 'pending';
              const when =
                state === 'sent'
                  ? html`sent ${timeHtml(d['sent_at'])}`
                  : state === 'pending' && d['next_attempt_at']
                    ? html`next try ${timeHtml(d['next_attempt_at'])}`
                    : timeHtml(d['updated_at'] ?? d['created_at']);
              return html`<tr data-delivery="${state}"><th scope="row">${field(d, 'output')}<span class="muted"> · ${field(d, 'type')}</span></th><td><span class="dstate dstate-${state}">${state}</span>${
                field(d, 'last_error') ? html`<span class="derror">${field(d, 'last_error')}</span>` : ''
              }</td><td>${when}</td><td>${field(d, 'attempts') || '0'}</td></tr>`;
            },
          )}</tbody></table>`;
  return html`<section class="card card-deliveries" aria-labelledby="card-deliveries" data-deliveries><h2 id="card-deliveries">Deliveries</h2>${body}</section>`;
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
