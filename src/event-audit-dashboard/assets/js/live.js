// The live connection: one EventSource on /api/alerts/stream, replaced with
// jittered exponential backoff when it drops (the browser's own retry would
// hammer a down service at a fixed rate), plus the live/offline indicator.

/** @param {number} attempt */
function backoff(attempt) {
  const ceiling = Math.min(30_000, 1000 * 2 ** attempt);
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/**
 * @param {{
 *   onAlert: (kind: 'created' | 'updated', row: Record<string, unknown>) => void,
 *   onReconnect?: () => void,
 * }} handlers
 */
export function connectLive(handlers) {
  const indicator = document.querySelector('[data-conn]');
  const label = document.querySelector('[data-conn-text]');
  // The countdown lives outside the status region so screen readers hear state changes only.
  const detail = document.querySelector('[data-conn-detail]');
  /** @type {EventSource | undefined} */
  let source;
  let attempt = 0;
  let everOpen = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {ReturnType<typeof setInterval> | undefined} */
  let countdown;

  /** @param {'live' | 'offline' | 'connecting'} state @param {string} text @param {string} [extra] */
  const show = (state, text, extra = '') => {
    if (!(indicator instanceof HTMLElement) || !label) return;
    indicator.hidden = false;
    indicator.dataset['state'] = state;
    if (label.textContent !== text) label.textContent = text;
    if (detail && detail.textContent !== extra) detail.textContent = extra;
  };

  const open = () => {
    clearInterval(countdown);
    show('connecting', everOpen ? 'Reconnecting…' : 'Connecting…');
    const es = new EventSource('/api/alerts/stream');
    source = es;
    es.onopen = () => {
      const wasOffline = everOpen;
      everOpen = true;
      attempt = 0;
      show('live', 'Live');
      if (wasOffline) handlers.onReconnect?.();
    };
    /** @param {'created' | 'updated'} kind */
    const listener = (kind) => (/** @type {MessageEvent} */ event) => {
      try {
        const row = JSON.parse(event.data);
        if (row && typeof row === 'object') handlers.onAlert(kind, row);
      } catch {
        // A malformed event is skipped; the next resync corrects the view.
      }
    };
    es.addEventListener('alert.created', listener('created'));
    es.addEventListener('alert.updated', listener('updated'));
    es.onerror = () => {
      es.close();
      if (source !== es) return;
      const delay = backoff(attempt++);
      let left = Math.ceil(delay / 1000);
      show('offline', 'Offline', ` · retrying in ${left} s`);
      countdown = setInterval(() => {
        left = Math.max(0, left - 1);
        show('offline', 'Offline', ` · retrying in ${left} s`);
      }, 1000);
      timer = setTimeout(open, delay);
    };
  };

  open();
  window.addEventListener('pagehide', () => {
    clearTimeout(timer);
    clearInterval(countdown);
    source?.close();
  });
}

/**
 * On a "notification service unavailable" page: check again with backoff and
 * reload once the service answers, so a wall screen recovers by itself.
 * @param {string} probeUrl
 */
export function retryWhenBackendReturns(probeUrl) {
  const status = document.querySelector('[data-retry-status]');
  let attempt = 1;
  const check = async () => {
    try {
      const response = await fetch(probeUrl, { headers: { accept: 'application/json' } });
      if (response.ok || response.status === 404) {
        location.reload();
        return;
      }
    } catch {
      // Still down (or the dashboard itself is): try again later.
    }
    const delay = backoff(attempt++);
    if (status) status.textContent = `Checking again in ${Math.ceil(delay / 1000)} s.`;
    setTimeout(check, delay);
  };
  const delay = backoff(attempt++);
  if (status) status.textContent = `Checking again in ${Math.ceil(delay / 1000)} s.`;
  setTimeout(check, delay);
}
