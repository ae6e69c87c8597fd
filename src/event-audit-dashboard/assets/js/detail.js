// The detail page: status changes through the dashboard's own API (the token
// stays on the server) and live updates when someone else changes the alert.
import { ApiError, getJson, postJson } from './api.js';
import { connectLive, retryWhenBackendReturns } from './live.js';
import { statusBadge, statusPanelHtml } from './render.js';
import { localizeTimes, startAgeTicker } from './time.js';
import './exception-section.js';

const alertId = document.body.dataset['alertId'] ?? '';
const actionsEnabled = document.body.dataset['actions'] === 'enabled';
const panel = document.querySelector('[data-status-panel]');
const responseCard = document.querySelector('[data-response]');
const PAST = { acknowledged: 'acknowledged', resolved: 'resolved', open: 'reopened' };

localizeTimes(document);
startAgeTicker();

if (document.querySelector('[data-backend-down]')) {
  retryWhenBackendReturns(`/api/alerts?limit=1`);
} else if (panel && alertId) {
  bindForm();
  connectLive({
    onAlert: (_kind, row) => {
      // The service echoes our own changes; only a newer state needs a re-render.
      if (String(row['alert_id'] ?? '') === alertId && String(row['updated_at'] ?? '') !== shownUpdatedAt) refresh();
    },
    onReconnect: () => refresh(),
  });
}

let busy = false;
/** The last outcome message survives re-renders caused by live updates for a while. */
let lastMessage = { text: '', until: 0 };
let shownUpdatedAt = '';

/** Re-renders the status panel from the service's current state. @param {string} [message] */
async function refresh(message) {
  if (!panel || busy) return;
  let alert;
  /** @type {unknown} */
  let responseEvents;
  try {
    const id = encodeURIComponent(alertId);
    // The history is one timeline: status changes and, on pages that show them, response steps.
    const [row, response] = await Promise.all([getJson(`/api/alerts/${id}`), responseCard ? getJson(`/api/alerts/${id}/response`).catch(() => undefined) : undefined]);
    alert = row;
    responseEvents = response?.events;
  } catch {
    return;
  }
  const textarea = panel.querySelector('textarea');
  const draft = message === undefined && textarea ? textarea.value : '';
  shownUpdatedAt = String(alert.updated_at ?? '');
  panel.innerHTML = statusPanelHtml(alert, { actionsEnabled, responseEvents }).toString();
  localizeTimes(panel);
  const badge = document.querySelector('[data-status-badge]');
  if (badge) badge.innerHTML = statusBadge(alert.status).toString();
  const nextArea = panel.querySelector('textarea');
  if (nextArea && draft) nextArea.value = draft;
  bindForm();
  if (message !== undefined) lastMessage = { text: message, until: Date.now() + 15_000 };
  const out = panel.querySelector('[data-form-message]');
  if (out && lastMessage.until > Date.now()) out.textContent = lastMessage.text;
  if (message !== undefined) /** @type {HTMLElement | null} */ (panel.querySelector('h2'))?.focus();
}

function bindForm() {
  if (!panel) return;
  for (const hint of panel.querySelectorAll('[data-needs-js]')) /** @type {HTMLElement} */ (hint).hidden = true;
  const heading = panel.querySelector('h2');
  heading?.setAttribute('tabindex', '-1');
  const form = panel.querySelector('[data-status-form]');
  if (!(form instanceof HTMLFormElement) || !actionsEnabled) return;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const submitter = /** @type {SubmitEvent} */ (event).submitter;
    const status = submitter instanceof HTMLButtonElement ? submitter.value : '';
    if (!status || busy) return;
    const out = form.querySelector('[data-form-message]');
    const buttons = [...form.querySelectorAll('button')];
    const note = String(new FormData(form).get('note') ?? '').trim();
    busy = true;
    for (const b of buttons) b.disabled = true;
    if (out) out.textContent = 'Saving…';
    try {
      await postJson(`/api/alerts/${encodeURIComponent(alertId)}/status`, note ? { status, note } : { status });
      busy = false;
      await refresh(`Alert ${PAST[/** @type {keyof typeof PAST} */ (status)] ?? status}.`);
    } catch (error) {
      busy = false;
      for (const b of buttons) b.disabled = false;
      if (out) {
        out.textContent = error instanceof ApiError ? `Could not change the status: ${error.message}` : 'Could not change the status.';
        out.classList.add('is-error');
      }
    }
  });
}

// Response decisions: Undo deletes the ban from CrowdSec through the dashboard's API.
if (responseCard && alertId && actionsEnabled) {
  responseCard.addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('[data-undo-decision]') : null;
    if (!(button instanceof HTMLButtonElement) || button.disabled) return;
    const out = responseCard.querySelector('[data-response-message]');
    button.disabled = true;
    if (out) out.textContent = 'Undoing…';
    try {
      const decision = button.dataset['undoDecision'] ?? '';
      await postJson(`/api/alerts/${encodeURIComponent(alertId)}/response/${encodeURIComponent(decision)}/undo`, {});
      window.location.reload();
    } catch (error) {
      button.disabled = false;
      if (out) {
        out.textContent = error instanceof ApiError ? `Could not undo: ${error.message}` : 'Could not undo.';
        out.classList.add('is-error');
      }
    }
  });
}
