// Alert views shared by the server's first render and the browser's live
// updates. Input rows come from the notification API and are treated as
// untrusted: every field is coerced to text and escaped by `html`.
import { html, raw } from './html.js';

export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];
export const STATUSES = ['open', 'acknowledged', 'resolved'];
const LEGACY = { WARNING: 'medium', WARN: 'medium', ERROR: 'high', INFORMATIONAL: 'info', NOTICE: 'low' };

/** CSS key of a severity; legacy free strings map onto the five levels or "other". @param {unknown} severity */
export function severityKey(severity) {
  const upper = String(severity ?? '').toUpperCase();
  if (SEVERITIES.includes(upper)) return upper.toLowerCase();
  return LEGACY[/** @type {keyof typeof LEGACY} */ (upper)] ?? 'other';
}

/** @param {unknown} status */
export function statusKey(status) {
  const lower = String(status ?? '').toLowerCase();
  return STATUSES.includes(lower) ? lower : 'open';
}

/** @param {unknown} status */
export function statusLabel(status) {
  const key = statusKey(status);
  return key.charAt(0).toUpperCase() + key.slice(1);
}

/** @param {Record<string, unknown>} row @param {string} key */
export function field(row, key) {
  const value = row[key];
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** "2026-01-31 08:00:05 UTC": what shows before the browser localises it. @param {unknown} iso */
export function formatUtc(iso) {
  const time = Date.parse(String(iso ?? ''));
  if (Number.isNaN(time)) return String(iso ?? '');
  return `${new Date(time).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/**
 * A <time> the browser rewrites to local time and keeps a relative age for;
 * the UTC value stays in `datetime` and the tooltip.
 * @param {unknown} iso
 */
export function timeHtml(iso) {
  const text = String(iso ?? '');
  const time = Date.parse(text);
  if (text === '' || Number.isNaN(time)) return html`<span class="muted">unknown</span>`;
  const utc = new Date(time).toISOString();
  return html`<time datetime="${utc}" title="${utc}" data-local>${formatUtc(utc)}</time>`;
}

/** @param {unknown} severity */
export function severityBadge(severity) {
  const label = String(severity ?? '') || 'UNKNOWN';
  return html`<span class="sev sev-${severityKey(severity)}">${label}</span>`;
}

/** @param {unknown} status */
export function statusBadge(status) {
  return html`<span class="status status-${statusKey(status)}">${statusLabel(status)}</span>`;
}

/** Link target of an alert; ids are validated server-side, encoding guards the rest. @param {unknown} id */
export function alertHref(id) {
  return `/alert/${encodeURIComponent(String(id ?? ''))}`;
}

/**
 * Status, last change, actions and history of one alert (the detail page). The history is one
 * timeline: the alert's status changes and, when given, its response steps (GET /alerts/{id}/response).
 * @param {Record<string, unknown>} row
 * @param {{ actionsEnabled: boolean, responseEvents?: unknown }} options
 */
export function statusPanelHtml(row, options) {
  const status = statusKey(row['status']);
  const changedAt = field(row, 'status_changed_at');
  const changedBy = field(row, 'status_changed_by');
  const note = field(row, 'status_note');
  /** @type {Array<[string, string]>} */
  const actions = [];
  if (status === 'open') actions.push(['acknowledged', 'Acknowledge'], ['resolved', 'Resolve']);
  if (status === 'acknowledged') actions.push(['resolved', 'Resolve'], ['open', 'Reopen']);
  if (status === 'resolved') actions.push(['open', 'Reopen']);
  const disabled = !options.actionsEnabled;
  return html`<h2 id="status-heading">Status</h2>
<p class="status-line">${statusBadge(status)}${
    changedAt ? html` <span class="muted">since ${timeHtml(changedAt)}${changedBy ? html` by ${changedBy}` : ''}</span>` : ''
  }</p>
${note ? html`<p class="status-note"><span class="k">Note</span> ${note}</p>` : ''}
<form class="status-form" data-status-form data-alert-id="${field(row, 'alert_id')}">
<label for="status-note">Note <span class="muted">(optional)</span></label>
<textarea id="status-note" name="note" rows="2" maxlength="1000"${raw(disabled ? ' disabled' : '')}></textarea>
<div class="actions">${actions.map(
    ([value, label]) =>
      html`<button type="submit" name="status" value="${value}" class="btn${value === 'resolved' ? ' btn-primary' : ''}"${raw(
        disabled ? ' disabled aria-describedby="actions-disabled"' : '',
      )}>${label}</button>`,
  )}</div>
${
  disabled
    ? html`<p id="actions-disabled" class="hint">Status changes are disabled: this dashboard has no NOTIFICATION_API_TOKEN configured.</p>`
    : html`<p class="hint" data-needs-js>Changing the status needs JavaScript.</p>`
}
<p class="form-message" role="status" aria-live="polite" data-form-message></p>
</form>
${historyHtml(row['history'], options.responseEvents)}`;
}

/** How each response step (ResponseEvent.action in common/contracts/response.ts) reads in the history. */
export const RESPONSE_ACTION_TEXT = {
  decided: 'Ban decided',
  recorded: 'Ban recorded (dry run)',
  skipped: 'Ban skipped',
  pushed: 'Ban pushed to CrowdSec',
  'push-failed': 'Ban push failed',
  undone: 'Ban undone',
};

/**
 * The alert's history as one timeline, oldest first: status changes (the alert's `history`,
 * AlertHistoryEntry) and response steps (ResponseEvent), each with who or which rule made it.
 * Entries at the same instant keep their source order, status changes first.
 * @param {unknown} history @param {unknown} [responseEvents]
 */
export function historyHtml(history, responseEvents) {
  const objects = (/** @type {unknown} */ list) =>
    /** @type {Record<string, unknown>[]} */ (Array.isArray(list) ? list.filter((e) => e && typeof e === 'object') : []);
  const entries = [
    ...objects(history).map((e) => ({ kind: 'status', e })),
    ...objects(responseEvents).map((e) => ({ kind: 'response', e })),
  ]
    .map((entry, index) => ({ ...entry, index, time: Date.parse(String(entry.e['at'] ?? '')) }))
    .sort((a, b) => (Number.isNaN(a.time) || Number.isNaN(b.time) || a.time === b.time ? a.index - b.index : a.time - b.time));
  if (entries.length === 0) return html`<h3>History</h3><p class="muted">No status changes yet.</p>`;
  return html`<h3>History</h3><ol class="history" data-history>${entries.map(({ kind, e }) => {
    if (kind === 'response') return responseStepHtml(e);
    const from = field(e, 'from_status');
    return html`<li data-history-kind="status">${timeHtml(e['at'])} <span>${from ? html`${statusBadge(from)} → ` : ''}${statusBadge(e['to_status'])}</span>${
      field(e, 'actor') ? html` <span class="muted">by ${field(e, 'actor')}</span>` : ''
    }${field(e, 'note') ? html`<q>${field(e, 'note')}</q>` : ''}</li>`;
  })}</ol>`;
}

/** @param {Record<string, unknown>} e */
function responseStepHtml(e) {
  const action = field(e, 'action');
  const text = RESPONSE_ACTION_TEXT[/** @type {keyof typeof RESPONSE_ACTION_TEXT} */ (action)] ?? action;
  return html`<li data-history-kind="response" data-response-action="${action}">${timeHtml(e['at'])} <span class="rstep rstep-${action}">${text}</span>${
    field(e, 'actor') ? html` <span class="muted">by ${field(e, 'actor')}</span>` : ''
  }${field(e, 'detail') ? html`<q>${field(e, 'detail')}</q>` : ''}</li>`;
}

/** @typedef {{ bucket: string, counts: Record<string, number> }} TimelinePoint */

const STEP_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

/**
 * Buckets between since and until, empty ones included, so gaps show as gaps.
 * @param {unknown} timeline @param {string} bucket @param {number} since @param {number} until
 * @returns {TimelinePoint[]}
 */
export function fillTimeline(timeline, bucket, since, until) {
  const step = STEP_MS[/** @type {keyof typeof STEP_MS} */ (bucket)] ?? STEP_MS.hour;
  /** @type {Map<number, Record<string, number>>} */
  const known = new Map();
  for (const point of Array.isArray(timeline) ? timeline : []) {
    const at = Date.parse(point?.bucket);
    if (!Number.isNaN(at) && point.counts && typeof point.counts === 'object') known.set(at, point.counts);
  }
  const first = Math.floor(since / step) * step;
  const count = Math.floor((until - first) / step) + 1;
  if (!Number.isFinite(first) || count <= 0 || count > 400) {
    return [...known].sort((a, b) => a[0] - b[0]).map(([at, counts]) => ({ bucket: new Date(at).toISOString(), counts }));
  }
  /** @type {TimelinePoint[]} */
  const filled = [];
  for (let i = 0; i < count; i++) {
    const at = first + i * step;
    filled.push({ bucket: new Date(at).toISOString(), counts: known.get(at) ?? {} });
    known.delete(at);
  }
  // Buckets the service aligned differently are kept rather than dropped.
  for (const [at, counts] of known) filled.push({ bucket: new Date(at).toISOString(), counts });
  return filled.sort((a, b) => Date.parse(a.bucket) - Date.parse(b.bucket));
}

const CHART_ORDER = ['critical', 'high', 'medium', 'low', 'info', 'other'];

/**
 * Stacked bars of alerts per bucket and severity, drawn by hand as SVG, with
 * the same numbers in a table for screen readers and anyone who prefers one.
 * @param {TimelinePoint[]} points
 * @param {{ label: (iso: string) => string, caption: string }} options
 */
export function chartHtml(points, options) {
  // Only bars and lines live in the SVG, which stretches to any width; the
  // labels are HTML so they stay readable from a phone to a wall screen.
  const width = 720;
  const height = 160;
  const stacks = points.map((p) => {
    /** @type {Record<string, number>} */
    const byKey = {};
    for (const [sev, n] of Object.entries(p.counts)) {
      const key = severityKey(sev);
      byKey[key] = (byKey[key] ?? 0) + (Number(n) || 0);
    }
    return { bucket: p.bucket, byKey, total: Object.values(byKey).reduce((a, b) => a + b, 0) };
  });
  const max = Math.max(1, ...stacks.map((s) => s.total));
  const slot = width / Math.max(1, stacks.length);
  const barW = Math.max(1, slot * 0.78);
  const total = stacks.reduce((a, s) => a + s.total, 0);
  const bars = stacks.map((s, i) => {
    let y = height;
    const x = i * slot + (slot - barW) / 2;
    const parts = CHART_ORDER.filter((k) => s.byKey[k]).map((k) => {
      const h = ((s.byKey[k] ?? 0) / max) * (height - 4);
      y -= h;
      return html`<rect class="bar-${k}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(h, 0.5).toFixed(1)}"/>`;
    });
    const detail = CHART_ORDER.filter((k) => s.byKey[k])
      .map((k) => `${k} ${s.byKey[k]}`)
      .join(', ');
    return html`<g><title>${options.label(s.bucket)}: ${s.total} alert${s.total === 1 ? '' : 's'}${detail ? ` (${detail})` : ''}</title>${parts}</g>`;
  });
  const ticks = stacks.length > 0 ? [...new Set([0, Math.floor((stacks.length - 1) / 2), stacks.length - 1])] : [];
  const rows = stacks.filter((s) => s.total > 0);
  if (total === 0) {
    return html`<figure class="chart">
<figcaption id="chart-caption">${options.caption}</figcaption>
<p class="chart-empty">No alerts in this period.</p>
</figure>`;
  }
  return html`<figure class="chart">
<figcaption id="chart-caption">${options.caption}</figcaption>
<div class="chart-plot">
<div class="chart-y" aria-hidden="true"><span>${max}</span><span>0</span></div>
<svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-caption chart-desc" preserveAspectRatio="none" focusable="false">
<desc id="chart-desc">${total} alert${total === 1 ? '' : 's'} in ${stacks.length} intervals; at most ${max} in one interval.</desc>
<line class="grid" x1="0" y1="4" x2="${width}" y2="4" vector-effect="non-scaling-stroke"/>
<line class="axis" x1="0" y1="${height}" x2="${width}" y2="${height}" vector-effect="non-scaling-stroke"/>
${bars}
</svg>
<span></span><div class="chart-x" aria-hidden="true">${ticks.map((i) => html`<span>${options.label(stacks[i]?.bucket ?? '')}</span>`)}</div>
</div>
<details class="chart-table"><summary>Show as table</summary>${
    rows.length === 0
      ? html`<p class="muted">No alerts in this period.</p>`
      : html`<table><thead><tr><th scope="col">Interval</th>${SEVERITIES.map((s) => html`<th scope="col">${s}</th>`)}<th scope="col">Other</th><th scope="col">Total</th></tr></thead><tbody>${rows.map(
          (s) =>
            html`<tr><th scope="row">${options.label(s.bucket)}</th>${CHART_ORDER.map((k) => html`<td>${s.byKey[k] ?? 0}</td>`)}<td>${s.total}</td></tr>`,
        )}</tbody></table>`
  }</details>
</figure>`;
}
