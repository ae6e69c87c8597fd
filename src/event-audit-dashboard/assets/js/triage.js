// The triage table in the browser: sorting and grouping the rows it shows
// (the server arranged the first render the same way, with table.js),
// selection with bulk acknowledge/resolve, and keyboard navigation.
import { ApiError, postJson } from './api.js';
import { statusBadge } from './render.js';
import { arrange, groupHeadHtml } from './table.js';

const view = { sort: document.body.dataset['sort'] ?? 'time', group: document.body.dataset['group'] ?? 'none' };
const PAST = { acknowledged: 'acknowledged', resolved: 'resolved' };

/** @param {HTMLTableElement} table @returns {HTMLTableRowElement[]} */
export function alertRows(table) {
  return /** @type {HTMLTableRowElement[]} */ ([...table.querySelectorAll('tbody > tr[data-id]')]);
}

/** @param {HTMLTableRowElement} tr */
function keysOf(tr) {
  const d = tr.dataset;
  return {
    id: d['id'] ?? '',
    rank: Number(d['rank']),
    time: Number(d['time']) || 0,
    count: Number(d['count']) || 1,
    rule: d['rule'] ?? '',
    ruleLabel: d['ruleLabel'] ?? '',
    host: d['host'] ?? '',
  };
}

/**
 * Re-orders the rows (and group bodies) after a sort, a grouping or a live change.
 * @param {HTMLTableElement} table @param {HTMLElement} [focus]
 */
export function rearrange(table, focus) {
  const groups = arrange(alertRows(table), keysOf, view);
  const bodies = groups.map((group) => {
    const tbody = document.createElement('tbody');
    tbody.dataset['group'] = group.key;
    if (view.group !== 'none') {
      const template = document.createElement('template');
      template.innerHTML = groupHeadHtml(group, group.items.length, view.group).toString();
      tbody.append(template.content);
    }
    tbody.append(...group.items);
    return tbody;
  });
  for (const old of [...table.tBodies]) old.remove();
  table.append(...bodies);
  focus?.focus({ preventScroll: true });
}

/** @param {HTMLTableElement} table */
export function enhanceTable(table) {
  const bulk = document.querySelector('[data-bulk]');
  const bulkCount = document.querySelector('[data-bulk-count]');
  const bulkMessage = document.querySelector('[data-bulk-message]');
  const help = document.querySelector('[data-help]');
  const selectAll = table.querySelector('[data-select-all]');

  const selected = () => alertRows(table).filter((tr) => tr.querySelector('[data-select]:checked'));
  const syncBulk = () => {
    const n = selected().length;
    if (bulk instanceof HTMLElement) bulk.hidden = n === 0;
    if (bulkCount) bulkCount.textContent = `${n} selected`;
    for (const tr of alertRows(table)) tr.classList.toggle('is-selected', !!tr.querySelector('[data-select]:checked'));
    if (selectAll instanceof HTMLInputElement) {
      const total = alertRows(table).length;
      selectAll.checked = n > 0 && n === total;
      selectAll.indeterminate = n > 0 && n < total;
    }
  };
  /** @param {boolean} on */
  const selectEvery = (on) => {
    for (const box of table.querySelectorAll('[data-select]')) /** @type {HTMLInputElement} */ (box).checked = on;
    syncBulk();
  };
  table.addEventListener('change', (event) => {
    if (event.target === selectAll && selectAll instanceof HTMLInputElement) selectEvery(selectAll.checked);
    else syncBulk();
  });
  document.querySelector('[data-bulk-clear]')?.addEventListener('click', () => selectEvery(false));

  /** @param {string} status @param {HTMLTableRowElement[]} rows */
  const changeStatus = async (status, rows) => {
    if (rows.length === 0 || document.body.dataset['actions'] === 'disabled') return;
    const ids = rows.map((tr) => tr.dataset['id'] ?? '');
    if (bulkMessage) bulkMessage.textContent = 'Saving…';
    try {
      const answer = await postJson('/api/alerts/status', { status, ids });
      for (const result of answer.results ?? []) {
        const tr = rows.find((row) => row.dataset['id'] === result.id);
        const cell = tr?.querySelector('.c-status');
        if (!tr || !result.ok || !cell) continue;
        tr.dataset['status'] = String(result.status);
        const badge = cell.querySelector('.status');
        if (badge) badge.outerHTML = statusBadge(result.status).toString();
      }
      const verb = PAST[/** @type {keyof typeof PAST} */ (status)] ?? status;
      const text = `${answer.changed} alert${answer.changed === 1 ? '' : 's'} ${verb}${answer.failed ? `, ${answer.failed} failed` : ''}.`;
      if (note()) /** @type {HTMLElement} */ (note()).textContent = text;
      if (bulkMessage) bulkMessage.textContent = text;
      if (!answer.failed) selectEvery(false);
    } catch (error) {
      const text = error instanceof ApiError ? `Could not change the status: ${error.message}` : 'Could not change the status.';
      if (bulkMessage) bulkMessage.textContent = text;
      if (note()) /** @type {HTMLElement} */ (note()).textContent = text;
    }
  };
  const note = () => document.querySelector('[data-list-note]');
  for (const button of document.querySelectorAll('[data-bulk-status]')) {
    button.addEventListener('click', () => changeStatus(/** @type {HTMLElement} */ (button).dataset['bulkStatus'] ?? '', selected()));
  }

  // Sorting and grouping without a reload; the URL keeps them for sharing and reloads.
  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[data-sort], a[data-group]') : null;
    if (!(link instanceof HTMLAnchorElement) || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    if (link.dataset['sort']) view.sort = link.dataset['sort'];
    if (link.dataset['group']) view.group = link.dataset['group'];
    const url = new URL(location.href);
    url.searchParams.delete('sort');
    url.searchParams.delete('group');
    if (view.sort !== 'time') url.searchParams.set('sort', view.sort);
    if (view.group !== 'none') url.searchParams.set('group', view.group);
    history.replaceState(null, '', url);
    for (const th of table.querySelectorAll('thead a[data-sort]')) {
      const on = /** @type {HTMLElement} */ (th).dataset['sort'] === view.sort;
      const cell = th.closest('th');
      if (on) cell?.setAttribute('aria-sort', 'descending');
      else cell?.removeAttribute('aria-sort');
      th.querySelector('span')?.remove();
      if (on) th.insertAdjacentHTML('beforeend', '<span aria-hidden="true"> ▾</span>');
    }
    for (const a of document.querySelectorAll('a[data-group]')) {
      if (/** @type {HTMLElement} */ (a).dataset['group'] === view.group) a.setAttribute('aria-current', 'true');
      else a.removeAttribute('aria-current');
    }
    rearrange(table);
  });

  // Keyboard: j/k move, x selects, a/r acknowledge/resolve, s silences, Enter/o opens, ? helps.
  const current = () => alertRows(table).find((tr) => tr.classList.contains('is-cursor'));
  /** @param {number} step */
  const move = (step) => {
    const rows = alertRows(table);
    if (rows.length === 0) return;
    const at = rows.indexOf(/** @type {HTMLTableRowElement} */ (current()));
    const next = rows[at < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(rows.length - 1, Math.max(0, at + step))];
    for (const tr of rows) tr.classList.remove('is-cursor');
    next?.classList.add('is-cursor');
    next?.focus();
  };
  table.addEventListener('focusin', (event) => {
    const tr = event.target instanceof Element ? event.target.closest('tr[data-id]') : null;
    if (!tr) return;
    for (const row of alertRows(table)) row.classList.toggle('is-cursor', row === tr);
  });
  const toggleHelp = () => {
    if (!(help instanceof HTMLDialogElement)) return;
    if (help.open) help.close();
    else help.showModal();
  };
  document.querySelector('[data-help-open]')?.addEventListener('click', toggleHelp);
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey) return;
    const target = /** @type {HTMLElement} */ (event.target);
    if (target.closest('input, select, textarea, [contenteditable="true"]') && event.key !== 'Escape') return;
    if (help instanceof HTMLDialogElement && help.open && event.key !== '?') return;
    const row = current();
    switch (event.key) {
      case 'j':
        move(1);
        break;
      case 'k':
        move(-1);
        break;
      case 'x': {
        const box = row?.querySelector('[data-select]');
        if (!(box instanceof HTMLInputElement)) return;
        box.checked = !box.checked;
        syncBulk();
        break;
      }
      case 'a':
      case 'r': {
        const rows = selected().length > 0 ? selected() : row ? [row] : [];
        void changeStatus(event.key === 'a' ? 'acknowledged' : 'resolved', rows);
        break;
      }
      case 's': {
        const link = row?.querySelector('a[data-silence]');
        if (link instanceof HTMLAnchorElement) location.assign(link.href);
        break;
      }
      case 'o':
      case 'Enter': {
        if (event.key === 'Enter' && target !== row) return;
        const link = row?.querySelector('.c-name a');
        if (link instanceof HTMLAnchorElement) location.assign(link.href);
        break;
      }
      case '/': {
        const filters = document.querySelector('details.filters');
        if (filters instanceof HTMLDetailsElement) filters.open = true;
        /** @type {HTMLElement | null} */ (document.querySelector('#f-q'))?.focus();
        break;
      }
      case '?':
        toggleHelp();
        break;
      case 'Escape':
        if (selected().length > 0) selectEvery(false);
        else return;
        break;
      default:
        return;
    }
    event.preventDefault();
  });
}
