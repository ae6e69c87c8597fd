// The alert list: live over SSE without reloads, filters kept in the URL,
// "load older" paging, and tiles and chart that follow new alerts. The
// triage table (sorting, grouping, selection, keys) lives in triage.js.
import { ApiError, getJson, postJson } from './api.js';
import { connectLive, retryWhenBackendReturns } from './live.js';
import { chartHtml, fillTimeline, severityKey } from './render.js';
import { tableRowHtml } from './table.js';
import { alertRows, enhanceTable, rearrange } from './triage.js';
import { bucketLabel, fromLocalInput, localizeTimes, startAgeTicker, toLocalInput } from './time.js';

document.documentElement.classList.add('js');

const body = document.body;
const query = body.dataset['query'] ?? '';
const paged = body.dataset['paged'] === 'true';
const list = document.querySelector('[data-alert-list]');
const empty = document.querySelector('[data-empty]');
const note = document.querySelector('[data-list-note]');

localizeTimes(document);
startAgeTicker();
enhanceFilterForm();
enhanceGeneratorPanel();

if (document.querySelector('[data-backend-down]')) {
  retryWhenBackendReturns(`/api/alerts?limit=1`);
} else if (list instanceof HTMLTableElement) {
  enhanceTable(list);
  enhancePager();
  connectLive({
    onAlert: (kind, row) => {
      const updated = replaceRow(row);
      if (!updated && kind === 'created') {
        if (paged) countMissed();
        else scheduleHeadRefresh();
      }
      scheduleStatsRefresh();
    },
    onReconnect: () => {
      // Events sent while offline are gone: fetch the current state instead.
      if (!paged) scheduleHeadRefresh();
      scheduleStatsRefresh();
    },
  });
}

/** @param {string} markup */
function toElement(markup) {
  const template = document.createElement('template');
  template.innerHTML = markup;
  const el = template.content.firstElementChild;
  if (el) localizeTimes(template.content);
  return /** @type {HTMLElement | null} */ (el);
}

/** @param {HTMLElement} el */
function highlight(el) {
  el.classList.add('is-fresh');
  setTimeout(() => el.classList.remove('is-fresh'), 6000);
}

/** Updates a row shown on the page in place; false when it is not shown. @param {Record<string, unknown>} row */
function replaceRow(row) {
  if (!(list instanceof HTMLTableElement)) return false;
  const id = String(row['alert_id'] ?? '');
  const current = alertRows(list).find((tr) => tr.dataset['id'] === id);
  if (!current) return false;
  const next = toElement(tableRowHtml(row).toString());
  if (!next) return false;
  const box = current.querySelector('[data-select]');
  const nextBox = next.querySelector('[data-select]');
  if (box instanceof HTMLInputElement && nextBox instanceof HTMLInputElement) nextBox.checked = box.checked;
  const focused = current.contains(document.activeElement);
  const cursor = current.classList.contains('is-cursor');
  current.replaceWith(next);
  if (cursor) next.classList.add('is-cursor');
  highlight(next);
  rearrange(list, focused ? next : undefined);
  return true;
}

let missed = 0;
function countMissed() {
  missed += 1;
  if (note) {
    note.replaceChildren();
    const link = document.createElement('a');
    link.href = query ? `/?${query}` : '/';
    link.textContent = `${missed} new alert${missed === 1 ? '' : 's'} · show newest`;
    note.append(link);
  }
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let headTimer;
function scheduleHeadRefresh() {
  clearTimeout(headTimer);
  // Bursts of alerts cost one request, not one each.
  headTimer = setTimeout(refreshHead, 400);
}

async function refreshHead() {
  if (!(list instanceof HTMLTableElement)) return;
  let page;
  try {
    page = await getJson(`/api/alerts${query ? `?${query}` : ''}`);
  } catch {
    return;
  }
  const shown = new Map(alertRows(list).map((tr) => [tr.dataset['id'], tr]));
  /** @type {HTMLElement[]} */
  const fresh = [];
  for (const row of page.items) {
    const id = String(row['alert_id'] ?? '');
    const existing = shown.get(id);
    if (existing instanceof HTMLElement) {
      if (existing.dataset['updated'] !== String(row['updated_at'] ?? '')) replaceRow(row);
      continue;
    }
    const el = toElement(tableRowHtml(row).toString());
    if (el) fresh.push(el);
  }
  if (fresh.length > 0) {
    list.tBodies[0]?.prepend(...fresh);
    fresh.forEach(highlight);
    rearrange(list);
    if (note) note.textContent = `${fresh.length} new alert${fresh.length === 1 ? '' : 's'} just now`;
  }
  if (empty instanceof HTMLElement) empty.hidden = alertRows(list).length > 0;
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let statsTimer;
let statsDue = 0;
function scheduleStatsRefresh() {
  if (statsTimer) return;
  // At most one stats request every 3 s however busy the stream is.
  const wait = Math.max(300, statsDue - Date.now());
  statsTimer = setTimeout(async () => {
    statsTimer = undefined;
    statsDue = Date.now() + 3000;
    await refreshStats();
  }, wait);
}

async function refreshStats() {
  const summary = document.querySelector('[data-summary]');
  if (!(summary instanceof HTMLElement)) return;
  let stats;
  try {
    stats = await getJson(`/api/alerts/stats${query ? `?${query}` : ''}`);
  } catch {
    return;
  }
  /** @type {Record<string, number>} */
  const counts = { total: Number(stats.total) || 0 };
  for (const [sev, n] of Object.entries(stats.by_severity ?? {})) {
    const key = severityKey(sev);
    counts[key] = (counts[key] ?? 0) + (Number(n) || 0);
  }
  for (const el of summary.querySelectorAll('[data-count]')) {
    const key = /** @type {HTMLElement} */ (el).dataset['count'] ?? '';
    const value = String(counts[key] ?? 0);
    if (el.textContent !== value) el.textContent = value;
  }
  drawChart(stats.timeline, stats.window);
}

/** @param {unknown} timeline @param {{ bucket: string, since: string, until: string }} window */
function drawChart(timeline, window) {
  const holder = document.querySelector('[data-chart]');
  if (!holder || !window) return;
  const caption = holder.querySelector('figcaption')?.textContent ?? 'Alerts over time by severity';
  const wasOpen = holder.querySelector('details')?.open ?? false;
  const points = fillTimeline(timeline, window.bucket, Date.parse(window.since), Date.parse(window.until));
  holder.innerHTML = chartHtml(points, { label: (iso) => bucketLabel(iso, window.bucket), caption }).toString();
  const details = holder.querySelector('details');
  if (details) details.open = wasOpen;
}

// The server labels the first chart in UTC; redraw it at once in local time.
{
  const summary = document.querySelector('[data-summary]');
  if (summary instanceof HTMLElement && summary.dataset['since']) {
    refreshStats();
  }
}

function enhancePager() {
  const older = document.querySelector('[data-older]');
  if (!(older instanceof HTMLAnchorElement) || !(list instanceof HTMLTableElement)) return;
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'btn';
  button.textContent = 'Load older alerts';
  let cursor = older.dataset['cursor'] ?? '';
  older.replaceWith(button);
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = 'Loading…';
    const params = new URLSearchParams(query);
    params.set('cursor', cursor);
    try {
      const page = await getJson(`/api/alerts?${params}`);
      const known = new Set(alertRows(list).map((tr) => tr.dataset['id']));
      for (const row of page.items) {
        if (known.has(String(row['alert_id'] ?? ''))) continue;
        const el = toElement(tableRowHtml(row).toString());
        if (el) list.tBodies[list.tBodies.length - 1]?.append(el);
      }
      rearrange(list);
      if (page.next_cursor) {
        cursor = page.next_cursor;
        button.disabled = false;
        button.textContent = 'Load older alerts';
      } else {
        button.replaceWith(Object.assign(document.createElement('p'), { className: 'muted', textContent: 'No older alerts.' }));
      }
    } catch (error) {
      button.disabled = false;
      button.textContent = 'Load older alerts (retry)';
      if (note) note.textContent = error instanceof ApiError ? `Could not load older alerts: ${error.message}` : 'Could not load older alerts.';
    }
  });
}

function enhanceFilterForm() {
  const form = document.querySelector('[data-filter-form]');
  if (!(form instanceof HTMLFormElement)) return;
  const range = form.querySelector('[data-range]');
  const custom = [...form.querySelectorAll('[data-custom-range]')];
  // With JavaScript the custom range is entered in local time, not UTC.
  for (const note of form.querySelectorAll('[data-tz-note]')) note.textContent = '(local time)';
  for (const input of form.querySelectorAll('input[type="datetime-local"]')) {
    const utc = /** @type {HTMLInputElement} */ (input).dataset['utc'];
    if (utc) /** @type {HTMLInputElement} */ (input).value = toLocalInput(utc);
  }
  const sync = () => {
    const isCustom = range instanceof HTMLSelectElement && range.value === 'custom';
    for (const el of custom) /** @type {HTMLElement} */ (el).hidden = !isCustom;
  };
  range?.addEventListener('change', sync);
  sync();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const params = new URLSearchParams();
    const severities = data.getAll('severity').map(String);
    if (severities.length > 0) params.set('severity', severities.join(','));
    for (const name of ['status', 'rule_id', 'user', 'host', 'origin', 'q', 'limit']) {
      const value = String(data.get(name) ?? '').trim();
      if (value) params.set(name, value);
    }
    const rangeValue = String(data.get('range') ?? '');
    if (rangeValue) params.set('range', rangeValue);
    if (rangeValue === 'custom') {
      const since = fromLocalInput(String(data.get('since') ?? ''));
      const until = fromLocalInput(String(data.get('until') ?? ''));
      if (since) params.set('since', since);
      if (until) params.set('until', until);
    }
    const text = params.toString();
    // The next page is rendered on the server; until it arrives, show that it is coming.
    const submit = form.querySelector('button[type="submit"]');
    if (submit instanceof HTMLButtonElement) {
      submit.disabled = true;
      submit.textContent = 'Loading…';
    }
    list?.setAttribute('aria-busy', 'true');
    location.assign(text ? `/?${text}` : '/');
  });
}

/** Pause and resume the demo stream through the dashboard's server (which holds the control token). */
function enhanceGeneratorPanel() {
  const button = document.querySelector('[data-generator-action]');
  if (!(button instanceof HTMLButtonElement)) return;
  const message = document.querySelector('[data-generator-message]');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await postJson(`/api/generator/${button.dataset['generatorAction']}`, {});
      location.reload();
    } catch (error) {
      button.disabled = false;
      if (message) message.textContent = error instanceof ApiError ? error.message : 'the request failed';
    }
  });
}
