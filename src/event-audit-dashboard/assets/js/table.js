// The compact triage table, shared by the server's first render and the
// browser's live updates and re-sorting. Sorting and grouping work on small
// "keys" records so the browser can arrange the rows it already shows (from
// their data attributes) exactly as the server arranged the alert objects.
import { html, raw } from './html.js';
import { alertHref, field, originBadge, severityBadge, severityKey, statusBadge, timeHtml } from './render.js';

export const SORTS = ['time', 'severity', 'count'];
export const GROUPS = ['none', 'rule', 'host'];
const RANK = ['critical', 'high', 'medium', 'low', 'info', 'other'];

/**
 * What sorting and grouping need of one alert.
 * @typedef {{ id: string, rank: number, time: number, count: number, rule: string, ruleLabel: string, host: string }} RowKeys
 */

/** @param {Record<string, unknown>} row @returns {RowKeys} */
export function rowKeys(row) {
  const rule = field(row, 'rule_id');
  return {
    id: field(row, 'alert_id'),
    rank: RANK.indexOf(severityKey(row['severity'])),
    time: Date.parse(field(row, 'last_seen') || field(row, 'timestamp')) || 0,
    count: Number(row['count'] ?? 1) || 1,
    rule,
    ruleLabel: field(row, 'rule_name') || rule,
    host: field(row, 'server_hostname'),
  };
}

/**
 * Orders items by `sort` (ties newest first) and splits them into groups,
 * biggest group first. One group with key "" when not grouping.
 * @template T
 * @param {T[]} items @param {(item: T) => RowKeys} keysOf
 * @param {{ sort: string, group: string }} view
 * @returns {{ key: string, label: string, items: T[] }[]}
 */
export function arrange(items, keysOf, view) {
  const keyed = items.map((item) => ({ item, k: keysOf(item) }));
  /** @type {(a: RowKeys, b: RowKeys) => number} */
  const primary =
    view.sort === 'severity' ? (a, b) => a.rank - b.rank : view.sort === 'count' ? (a, b) => b.count - a.count : () => 0;
  keyed.sort((a, b) => primary(a.k, b.k) || b.k.time - a.k.time || (a.k.id < b.k.id ? 1 : -1));
  if (view.group !== 'rule' && view.group !== 'host') return [{ key: '', label: '', items: keyed.map((e) => e.item) }];
  /** @type {Map<string, { key: string, label: string, items: T[] }>} */
  const groups = new Map();
  for (const { item, k } of keyed) {
    const key = view.group === 'rule' ? k.rule : k.host;
    const label = (view.group === 'rule' ? k.ruleLabel : k.host) || (view.group === 'rule' ? '(no rule)' : '(no host)');
    const group = groups.get(key) ?? { key, label, items: [] };
    group.items.push(item);
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.items.length - a.items.length || a.label.localeCompare(b.label));
}

/** @param {Record<string, unknown>} row */
export function tableRowHtml(row) {
  const k = rowKeys(row);
  const name = field(row, 'alert_name') || '(unnamed alert)';
  const user = field(row, 'actor_id');
  const when = field(row, 'last_seen') || field(row, 'timestamp');
  const silenced = row['silenced'] === true;
  return html`<tr class="row sev-row-${severityKey(row['severity'])}" data-id="${k.id}" data-updated="${field(row, 'updated_at')}" data-rank="${k.rank}" data-time="${k.time}" data-count="${k.count}" data-rule="${k.rule}" data-rule-label="${k.ruleLabel}" data-host="${k.host}" data-status="${field(row, 'status')}" data-origin="${field(row, 'origin')}" tabindex="-1">
<td class="c-sel js-only"><input type="checkbox" data-select aria-label="Select ${name}"></td>
<td class="c-sev">${severityBadge(row['severity'])}</td>
<td class="c-name"><a href="${alertHref(k.id)}">${name}</a>${field(row, 'origin') === 'synthetic' ? html` <span class="badge-synthetic" title="made up by the generator's demo stream, not a real record">Demo</span>` : ''}${field(row, 'description') ? html`<span class="c-desc">${field(row, 'description')}</span>` : ''}</td>
<td class="c-rule" title="${k.ruleLabel}"><span class="k">Rule</span> ${k.rule || k.ruleLabel}</td>
<td class="c-host"><span class="k">Host</span> ${k.host}</td>
<td class="c-user"><span class="k">User</span> ${user}</td>
<td class="c-src"><span class="k">Source</span> ${originBadge(row)}</td>
<td class="c-count" title="matching events folded into this alert">${k.count > 1 ? `×${k.count}` : '1'}</td>
<td class="c-age">${timeHtml(when)}</td>
<td class="c-status">${statusBadge(row['status'])}${silenced ? html` <span class="status status-silenced" title="matched by a silence: stored and shown, not delivered">Silenced</span>` : ''}</td>
<td class="c-act"><a class="row-act" href="/silences/new?alert=${encodeURIComponent(k.id)}" data-silence aria-label="Silence alerts like ${name}">Silence</a></td>
</tr>`;
}

/** @param {{ key: string, label: string }} group @param {number} count @param {string} by */
export function groupHeadHtml(group, count, by) {
  return html`<tr class="group-head" data-group-head><th colspan="11" scope="rowgroup"><span class="k">${by === 'rule' ? 'Rule' : 'Host'}</span> ${group.label} <span class="group-count">${count} alert${count === 1 ? '' : 's'}</span></th></tr>`;
}

/**
 * The table body (one <tbody> per group) of the given rows.
 * @param {Record<string, unknown>[]} rows @param {{ sort: string, group: string }} view
 */
export function tableBodiesHtml(rows, view) {
  return arrange(rows, rowKeys, view).map(
    (group) =>
      html`<tbody data-group="${group.key}">${view.group === 'none' ? '' : groupHeadHtml(group, group.items.length, view.group)}${group.items.map(tableRowHtml)}</tbody>`,
  );
}

/**
 * The header: sortable columns are links (they work without JavaScript).
 * @param {{ sort: string, group: string }} view @param {(sort: string) => string} sortHref
 */
export function tableHeadHtml(view, sortHref) {
  /** @param {string} sort @param {string} label @param {string} cls */
  const sortable = (sort, label, cls) =>
    html`<th scope="col" class="${cls}"${raw(view.sort === sort ? ' aria-sort="descending"' : '')}><a href="${sortHref(sort)}" data-sort="${sort}">${label}${view.sort === sort ? html`<span aria-hidden="true"> ▾</span>` : ''}</a></th>`;
  return html`<thead><tr>
<th scope="col" class="c-sel js-only"><input type="checkbox" data-select-all aria-label="Select all shown alerts"></th>
${sortable('severity', 'Severity', 'c-sev')}
<th scope="col" class="c-name">Alert</th>
<th scope="col" class="c-rule">Rule</th>
<th scope="col" class="c-host">Host</th>
<th scope="col" class="c-user">User</th>
<th scope="col" class="c-src">Source</th>
${sortable('count', 'Count', 'c-count')}
${sortable('time', 'Age', 'c-age')}
<th scope="col" class="c-status">Status</th>
<th scope="col" class="c-act"><span class="visually-hidden">Actions</span></th>
</tr></thead>`;
}

