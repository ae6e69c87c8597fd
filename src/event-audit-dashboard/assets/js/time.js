// Local, readable times. The server writes UTC into <time data-local>; here
// the text becomes the viewer's local time plus a relative age, while the
// exact UTC instant stays in the datetime attribute and the tooltip.

const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });

/** @param {number} ms */
export function relativeAge(ms, now = Date.now()) {
  const seconds = Math.round((ms - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) return seconds <= 0 ? 'just now' : 'in a moment';
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86_400) return relative.format(Math.round(seconds / 3600), 'hour');
  if (abs < 30 * 86_400) return relative.format(Math.round(seconds / 86_400), 'day');
  return relative.format(Math.round(seconds / (30 * 86_400)), 'month');
}

/** @param {string} iso */
export function localTime(iso) {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : absolute.format(ms);
}

/** Short local label for chart buckets. @param {string} iso @param {string} bucket */
export function bucketLabel(iso, bucket) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const options =
    bucket === 'day'
      ? /** @type {const} */ ({ month: 'short', day: 'numeric' })
      : bucket === 'hour'
        ? /** @type {const} */ ({ weekday: 'short', hour: '2-digit', minute: '2-digit' })
        : /** @type {const} */ ({ hour: '2-digit', minute: '2-digit' });
  return new Intl.DateTimeFormat(undefined, options).format(ms);
}

/** Rewrites every server-rendered <time data-local> under root. @param {ParentNode} root */
export function localizeTimes(root) {
  for (const el of /** @type {NodeListOf<HTMLElement>} */ (root.querySelectorAll('time[data-local]'))) {
    const iso = el.getAttribute('datetime') ?? '';
    el.textContent = localTime(iso);
    el.title = `${iso} (UTC)`;
    let rel = el.nextElementSibling;
    if (!(rel instanceof HTMLElement && rel.classList.contains('rel'))) {
      rel = document.createElement('span');
      rel.className = 'rel';
      el.after(rel);
    }
    rel.textContent = relativeAge(Date.parse(iso));
    el.removeAttribute('data-local');
    el.setAttribute('data-localized', '');
  }
}

/** Keeps the relative ages current without re-rendering rows. */
export function startAgeTicker(intervalMs = 30_000) {
  return setInterval(() => {
    for (const el of document.querySelectorAll('time[data-localized]')) {
      const rel = el.nextElementSibling;
      if (rel?.classList.contains('rel')) rel.textContent = relativeAge(Date.parse(el.getAttribute('datetime') ?? ''));
    }
  }, intervalMs);
}

/** Value for <input type="datetime-local"> in local time. @param {string} iso */
export function toLocalInput(iso) {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return '';
  const d = new Date(ms);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** ISO UTC of a datetime-local value the user typed in local time. @param {string} value */
export function fromLocalInput(value) {
  if (value === '') return '';
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? '' : new Date(ms).toISOString();
}
