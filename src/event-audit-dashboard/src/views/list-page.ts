import { html, type SafeHtml } from '../../assets/js/html.js';
import { chartHtml, fillTimeline, SEVERITIES, severityKey } from '../../assets/js/render.js';
import { tableBodiesHtml, tableHeadHtml } from '../../assets/js/table.js';
import type { GeneratorStatus } from '../backend/generator-client.ts';
import type { AlertPage } from '../backend/notification-client.ts';
import type { AssetBundle } from '../http/assets.ts';
import { type AlertFilters, type Bucket, hasActiveFilters, ORIGINS, pageQuery, RANGES } from '../http/filters.ts';
import { DEFAULT_VIEW, listHref, type ViewOptions } from '../http/view-options.ts';
import { layout } from './layout.ts';
import { backendDownPanel } from './states.ts';

export interface StatsView {
  stats: Record<string, unknown>;
  bucket: Bucket;
  since: string;
  until: string;
}

export interface ListPageModel {
  assets: AssetBundle;
  filters: AlertFilters;
  /** Sort, grouping and table or cards (defaults when absent). */
  view?: ViewOptions;
  /** Undefined when the notification service could not be asked. */
  page: AlertPage | undefined;
  stats: StatsView | undefined;
  backendError?: string;
  /** False when no API token is configured: bulk actions are disabled. */
  actionsEnabled?: boolean;
  /** A validation problem with the query (the 400 page keeps the form to fix it). */
  filterError?: string;
  /** The demo stream's state, when a generator is configured and answers. */
  generator?: GeneratorStatus & { controllable: boolean };
}

const ORIGIN_LABELS: Record<(typeof ORIGINS)[number], string> = {
  real: 'Real sources only',
  k8s_audit: 'Kubernetes audit',
  syslog: 'Syslog',
  journald: 'journald',
  synthetic: 'Demo stream (synthetic)',
};

const RANGE_LABELS: Record<string, string> = {
  '': 'Any time',
  '15m': 'Last 15 minutes',
  '1h': 'Last hour',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  custom: 'Custom range',
};

export function listPage(model: ListPageModel): string {
  const { filters } = model;
  const here = `/${queryString(pageQuery(filters))}`;
  let content: SafeHtml;
  if (model.filterError !== undefined) {
    content = html`<section class="panel panel-error" role="alert"><h2>These filters are not valid</h2><p>${model.filterError}</p><p><a class="btn" href="/">Clear filters</a></p></section>`;
  } else if (model.page === undefined) {
    content = backendDownPanel(here, model.backendError ?? '');
  } else {
    content = html`${summary(model)}${alertList(model, model.page)}`;
  }
  return layout({
    title: 'Alerts',
    script: 'list',
    assets: model.assets,
    data: {
      page: 'list',
      query: pageQuery(filters, { cursor: undefined }).toString(),
      paged: filters.cursor ? 'true' : 'false',
      sort: (model.view ?? DEFAULT_VIEW).sort,
      group: (model.view ?? DEFAULT_VIEW).group,
    },
    body: html`<div class="page-head"><h1>Alerts</h1><p class="head-links"><a href="/silences">Silences</a> <button type="button" class="btn btn-quiet btn-small js-only" data-help-open aria-keyshortcuts="?">Keys <kbd>?</kbd></button></p></div>
${generatorPanel(model.generator)}
${filterForm(filters)}
${content}`,
  });
}

const PAUSE_REASONS: Record<string, string> = {
  operator: 'paused from the dashboard or the API',
  'real-source': 'paused automatically: a real source has sent events',
  config: 'off in the configuration (EVENTS_PER_SECOND=0 SCENARIO_INTERVAL_SECONDS=0)',
};

/** Whether the generator's made-up stream is feeding this dashboard, and the switch for it. */
function generatorPanel(status: ListPageModel['generator']): SafeHtml {
  if (status === undefined) return html``;
  const running = status.running;
  const what = running
    ? `synthetic events${status.events_per_second > 0 ? ` at ${status.events_per_second}/s` : ''}${status.scenario_interval_seconds > 0 ? `, an attack scenario every ${status.scenario_interval_seconds} s` : ''}`
    : status.paused
      ? (PAUSE_REASONS[status.reason] ?? 'paused')
      : (PAUSE_REASONS['config'] ?? '');
  const action = running ? 'pause' : 'resume';
  const button =
    status.configured && status.controllable
      ? html`<button type="button" class="btn btn-small js-only" data-generator-action="${action}">${running ? 'Pause demo stream' : 'Resume demo stream'}</button>`
      : status.configured
        ? html`<span class="muted">Set GENERATOR_CONTROL_TOKEN to pause it from here.</span>`
        : '';
  return html`<section class="generator-panel" aria-label="Demo stream" data-generator-panel data-generator-running="${running ? 'true' : 'false'}"><span class="badge-synthetic">Demo</span> <span>Demo stream: <span class="generator-state ${running ? 'is-running' : 'is-paused'}" data-generator-state>${running ? 'running' : 'stopped'}</span> <span class="muted">(${what})</span></span> ${button}<span class="muted" data-generator-message role="status"></span></section>`;
}

function queryString(params: URLSearchParams): string {
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

function filterForm(filters: AlertFilters): SafeHtml {
  const active = hasActiveFilters(filters);
  const count = [
    filters.severity.length > 0,
    filters.status,
    filters.ruleId,
    filters.user,
    filters.host,
    filters.origin,
    filters.q,
    filters.range,
  ].filter(Boolean).length;
  const range = filters.range ?? '';
  const localValue = (iso: string | undefined) => (iso ? iso.slice(0, 16) : '');
  return html`<details class="filters" data-filters${active ? html` open` : ''}>
<summary>Filters${count > 0 ? html` <span class="pill">${count} active</span>` : ''}</summary>
<form method="get" action="/" class="filter-form" data-filter-form>
<fieldset class="f-sev"><legend>Severity</legend>
${SEVERITIES.map(
  (s) =>
    html`<label class="check"><input type="checkbox" name="severity" value="${s}"${filters.severity.includes(s) ? html` checked` : ''}> <span class="sev sev-${severityKey(s)}">${s}</span></label>`,
)}
</fieldset>
<div class="field"><label for="f-status">Status</label>
<select id="f-status" name="status">
${[
  ['', 'Any status'],
  ['open', 'Open'],
  ['acknowledged', 'Acknowledged'],
  ['resolved', 'Resolved'],
].map(([value, label]) => html`<option value="${value}"${(filters.status ?? '') === value ? html` selected` : ''}>${label}</option>`)}
</select></div>
<div class="field"><label for="f-range">Time range</label>
<select id="f-range" name="range" data-range>
${['', ...RANGES, 'custom'].map(
  (value) => html`<option value="${value}"${range === value ? html` selected` : ''}>${RANGE_LABELS[value] ?? value}</option>`,
)}
</select></div>
<div class="field field-custom" data-custom-range${range === 'custom' ? '' : html` data-collapsed`}>
<label for="f-since">From <span class="muted" data-tz-note>(UTC)</span></label>
<input id="f-since" name="since" type="datetime-local" value="${localValue(filters.since)}" data-utc="${filters.since ?? ''}">
</div>
<div class="field field-custom" data-custom-range${range === 'custom' ? '' : html` data-collapsed`}>
<label for="f-until">To <span class="muted" data-tz-note>(UTC)</span></label>
<input id="f-until" name="until" type="datetime-local" value="${localValue(filters.until)}" data-utc="${filters.until ?? ''}">
</div>
<div class="field"><label for="f-rule">Rule</label><input id="f-rule" name="rule_id" list="rule-options" value="${filters.ruleId ?? ''}" maxlength="255" autocomplete="off" placeholder="e.g. ANLY-SEC-001"></div>
<div class="field"><label for="f-user">User</label><input id="f-user" name="user" value="${filters.user ?? ''}" maxlength="255" autocomplete="off"></div>
<div class="field"><label for="f-host">Host</label><input id="f-host" name="host" value="${filters.host ?? ''}" maxlength="255" autocomplete="off"></div>
<div class="field"><label for="f-origin">Source</label>
<select id="f-origin" name="origin" data-origin-filter>
${[['', 'Any source'], ...ORIGINS.map((origin) => [origin, ORIGIN_LABELS[origin]])].map(
  ([value, label]) => html`<option value="${value}"${(filters.origin ?? '') === value ? html` selected` : ''}>${label}</option>`,
)}
</select></div>
<div class="field"><label for="f-q">Search</label><input id="f-q" name="q" type="search" value="${filters.q ?? ''}" maxlength="200" placeholder="name, description, source"></div>
${filters.limit !== 50 ? html`<input type="hidden" name="limit" value="${filters.limit}">` : ''}
<div class="form-actions"><button type="submit" class="btn btn-primary">Apply filters</button> <a class="btn btn-quiet" href="/">Reset</a></div>
</form>
</details>`;
}

function summary(model: ListPageModel): SafeHtml {
  if (model.stats === undefined) {
    return html`<section class="summary" aria-label="Summary"><p class="panel panel-warn" data-stats-error>Counts and the chart are unavailable right now; the list below is current.</p></section>`;
  }
  const { stats } = model.stats;
  const bySeverity = isRecord(stats['by_severity']) ? stats['by_severity'] : {};
  const counts: Record<string, number> = {};
  for (const [sev, n] of Object.entries(bySeverity)) {
    const key = severityKey(sev);
    counts[key] = (counts[key] ?? 0) + (Number(n) || 0);
  }
  const total = Number(stats['total']) || Object.values(counts).reduce((a, b) => a + b, 0);
  const tiles: { key: string; label: string; severity: string | undefined }[] = [
    { key: 'total', label: 'ALL', severity: undefined },
    ...SEVERITIES.map((s) => ({ key: severityKey(s), label: s, severity: s })),
  ];
  if ((counts['other'] ?? 0) > 0) tiles.push({ key: 'other', label: 'Other', severity: undefined });
  const byRule = Array.isArray(stats['by_rule']) ? stats['by_rule'].filter(isRecord) : [];
  const windowText = model.filters.range === undefined ? 'last 24 hours' : (RANGE_LABELS[model.filters.range] ?? '').toLowerCase();
  const points = fillTimeline(stats['timeline'], model.stats.bucket, Date.parse(model.stats.since), Date.parse(model.stats.until));
  return html`<section class="summary" aria-label="Summary" data-summary data-bucket="${model.stats.bucket}" data-since="${model.stats.since}" data-until="${model.stats.until}">
<h2 class="summary-note">Counts by severity · ${windowText}</h2>
<ul class="tiles" role="list">${tiles.map((tile) => {
    const value = tile.key === 'total' ? total : (counts[tile.key] ?? 0);
    const selected = tile.severity !== undefined && model.filters.severity.length === 1 && model.filters.severity[0] === tile.severity;
    const href = tile.key === 'other' ? undefined : `/${queryString(pageQuery({ ...model.filters, severity: tile.severity ? [tile.severity] : [] }, { cursor: undefined }))}`;
    const inner = html`<span class="tile-label">${tile.label}</span><span class="tile-count" data-count="${tile.key}">${value}</span>`;
    return html`<li class="tile tile-${tile.key}">${href ? html`<a href="${href}"${selected ? html` aria-current="true"` : ''}>${inner}</a>` : html`<span class="tile-static">${inner}</span>`}</li>`;
  })}</ul>
<div data-chart>${chartHtml(points, {
    label: (iso) => utcLabel(iso, model.stats?.bucket ?? 'hour'),
    caption: `Alerts over time by severity (${windowText})`,
  })}</div>
<datalist id="rule-options">${byRule.map((r) => html`<option value="${String(r['rule_id'] ?? '')}">${String(r['rule_name'] ?? '')}</option>`)}</datalist>
</section>`;
}

/** Chart labels before the browser localises them. */
function utcLabel(iso: string, bucket: Bucket): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  if (bucket === 'day') return `${date.toISOString().slice(5, 10)} UTC`;
  return `${date.toISOString().slice(11, 16)} UTC`;
}

function alertList(model: ListPageModel, page: AlertPage): SafeHtml {
  const { filters } = model;
  const view = model.view ?? DEFAULT_VIEW;
  const active = hasActiveFilters(filters);
  const empty = active
    ? html`No alerts match these filters. <a href="/">Clear filters</a>`
    : html`No alerts yet. New alerts appear here as soon as they arrive.`;
  const newer = filters.cursor ? listHref(filters, view, { cursor: undefined }) : undefined;
  const older = page.nextCursor ? listHref(filters, view, { cursor: page.nextCursor }) : undefined;
  const option = (name: 'group' | 'view', value: string, label: string) =>
    view[name] === value
      ? html`<a href="${listHref(filters, view, { [name]: value })}" aria-current="true" data-${name}="${value}">${label}</a>`
      : html`<a href="${listHref(filters, view, { [name]: value })}" data-${name}="${value}">${label}</a>`;
  return html`<section class="list${view.view === 'cards' ? ' is-cards' : ''}" aria-labelledby="list-heading">
<div class="list-head"><h2 id="list-heading">${filters.cursor ? 'Older alerts' : 'Newest first'}</h2>
<nav class="seg" aria-label="Group by"><span class="seg-label">Group</span>${option('group', 'none', 'None')}${option('group', 'rule', 'Rule')}${option('group', 'host', 'Host')}</nav>
<nav class="seg" aria-label="Layout"><span class="seg-label">View</span>${option('view', 'table', 'Table')}${option('view', 'cards', 'Cards')}</nav>
<p class="list-note" data-list-note aria-live="polite"></p></div>
<div class="bulk js-only" data-bulk hidden role="region" aria-label="Selected alerts"><span data-bulk-count>0 selected</span>
<button type="button" class="btn btn-small" data-bulk-status="acknowledged"${model.actionsEnabled === false ? html` disabled` : ''}>Acknowledge</button>
<button type="button" class="btn btn-small" data-bulk-status="resolved"${model.actionsEnabled === false ? html` disabled` : ''}>Resolve</button>
<button type="button" class="btn btn-small btn-quiet" data-bulk-clear>Clear selection</button>
<span class="bulk-message" data-bulk-message role="status"></span></div>
${filters.cursor ? html`<p class="panel panel-info">You are looking at older alerts; live updates only change rows shown here. <a href="${newer}">Back to newest</a></p>` : ''}
<table class="alert-table" id="alert-list" data-alert-list>
<caption class="visually-hidden">Alerts, ${view.sort === 'time' ? 'newest first' : `by ${view.sort}`}${view.group === 'none' ? '' : `, grouped by ${view.group}`}</caption>
${tableHeadHtml(view, (sort) => listHref(filters, view, { sort: sort as ViewOptions['sort'], cursor: filters.cursor }))}
${tableBodiesHtml(page.rows, view)}
</table>
<p class="empty" data-empty${page.rows.length > 0 ? html` hidden` : ''}>${empty}</p>
<nav class="pager" aria-label="Pages">
${newer ? html`<a class="btn" href="${newer}" data-newer>← Newest</a>` : ''}
${older ? html`<a class="btn" href="${older}" data-older data-cursor="${page.nextCursor}">Older alerts →</a>` : ''}
</nav>
</section>
${helpDialog()}`;
}

/** The keyboard help, opened with "?" (documented in docs/dashboard.md). */
export const KEYS: [string, string][] = [
  ['j / k', 'Next / previous alert'],
  ['x', 'Select or unselect the alert'],
  ['a', 'Acknowledge the selected alerts (or the current one)'],
  ['r', 'Resolve the selected alerts (or the current one)'],
  ['s', 'Silence alerts like the current one'],
  ['Enter / o', 'Open the current alert'],
  ['/', 'Search (opens the filters)'],
  ['?', 'Show or hide this help'],
  ['Esc', 'Close this help, or clear the selection'],
];

function helpDialog(): SafeHtml {
  return html`<dialog class="help" data-help aria-labelledby="help-heading"><h2 id="help-heading">Keyboard shortcuts</h2>
<dl class="keys">${KEYS.map(([key, what]) => html`<dt><kbd>${key}</kbd></dt><dd>${what}</dd>`)}</dl>
<form method="dialog"><button class="btn" type="submit">Close</button></form></dialog>`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
