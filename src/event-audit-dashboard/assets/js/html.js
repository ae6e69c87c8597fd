// Escaping HTML builder shared by the server (first render) and the browser
// (live updates), so both produce the same markup from the same code.
// Every interpolated value is escaped unless it is already SafeHtml: alert
// fields and raw event data are attacker-controlled.

export class SafeHtml {
  /** @param {string} value */
  constructor(value) {
    this.value = value;
  }
  toString() {
    return this.value;
  }
}

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** @param {unknown} value */
export function escapeHtml(value) {
  return String(value ?? '').replace(/[&<>"'`]/g, (ch) => ESCAPES[/** @type {keyof typeof ESCAPES} */ (ch)]);
}

/** @param {unknown} value @returns {string} */
function part(value) {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(part).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(value);
}

/**
 * Tagged template: `html\`<p>${text}</p>\`` escapes `text`.
 * @param {TemplateStringsArray} strings
 * @param {...unknown} values
 */
export function html(strings, ...values) {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += part(values[i]) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}

/** Marks a string the caller built from escaped parts as safe. @param {string} value */
export function raw(value) {
  return new SafeHtml(value);
}
