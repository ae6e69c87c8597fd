// "Never alert on this" on the alert page: preview what an exception would have hidden in the
// stored alerts, then save it (through the dashboard's own API, which holds the token).
import { ApiError, postJson } from './api.js';
import { fillAuthor, rememberAuthor } from './author.js';

const section = document.querySelector('[data-exception-section]');
const form = section?.querySelector('[data-exception-form]');
const actionsEnabled = document.body.dataset['actions'] === 'enabled';

if (section instanceof HTMLElement && form instanceof HTMLFormElement) {
  for (const hint of form.querySelectorAll('[data-needs-js]')) /** @type {HTMLElement} */ (hint).hidden = true;
  fillAuthor(form);
  const ruleId = section.dataset['ruleId'] ?? '';
  const result = form.querySelector('[data-exception-result]');
  const message = form.querySelector('[data-form-message]');
  const previewButton = form.querySelector('[data-exception-preview]');

  /** The checked labels and their exact values. @returns {Record<string, string>} */
  const fields = () => {
    /** @type {Record<string, string>} */
    const chosen = {};
    for (const box of form.querySelectorAll('input[name="field"]')) {
      if (box instanceof HTMLInputElement && box.checked) chosen[box.value] = box.dataset['value'] ?? '';
    }
    return chosen;
  };
  const days = () => Number(new FormData(form).get('days') ?? 7);
  /** @param {Element | null} out @param {string} text @param {boolean} [error] */
  const say = (out, text, error = false) => {
    if (!out) return;
    out.textContent = text;
    out.classList.toggle('is-error', error);
  };

  // A preview answers for the values and window it was asked for: another choice makes it stale.
  form.addEventListener('change', (event) => {
    const target = event.target;
    if (target instanceof HTMLInputElement && target.name === 'field') say(result, '');
    if (target instanceof HTMLSelectElement && target.name === 'days') say(result, '');
  });

  previewButton?.addEventListener('click', async () => {
    const chosen = fields();
    if (Object.keys(chosen).length === 0) return say(result, 'Check at least one value.', true);
    say(result, 'Counting…');
    try {
      const preview = await postJson('/api/exceptions/preview', { rule_id: ruleId, fields: chosen, days: days() });
      const n = Number(preview.matched);
      const d = Number(preview.window?.days ?? days());
      if (!result) return;
      result.textContent = `Would have hidden ${n} alert${n === 1 ? '' : 's'} in the last ${d} day${d === 1 ? '' : 's'}`;
      result.classList.remove('is-error');
      if (preview.truncated) result.append(` (only the newest ${preview.scanned} alerts of the rule were compared)`);
      result.append('. ');
      const link = document.createElement('a');
      link.href = listLink(ruleId, chosen, String(preview.window?.from ?? ''));
      link.textContent = Object.keys(chosen).every((name) => name === 'host' || name === 'user') ? 'Show them' : 'Show the alerts of this rule then';
      result.append(link);
    } catch (error) {
      say(result, error instanceof ApiError ? `Could not preview: ${error.message}` : 'Could not preview.', true);
    }
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!actionsEnabled) return;
    const chosen = fields();
    if (Object.keys(chosen).length === 0) return say(message, 'Check at least one value.', true);
    const data = new FormData(form);
    const author = String(data.get('author') ?? '').trim();
    const expires = String(data.get('expires') ?? '');
    rememberAuthor(author);
    const submit = form.querySelector('button[type="submit"]');
    if (submit instanceof HTMLButtonElement) submit.disabled = true;
    say(message, 'Saving…');
    try {
      const saved = await postJson('/api/exceptions', {
        rule_id: ruleId,
        fields: chosen,
        reason: String(data.get('reason') ?? '').trim(),
        author,
        // The end of the chosen day, in this browser's time zone.
        ...(expires ? { expires_at: new Date(`${expires}T23:59:59`).toISOString() } : {}),
      });
      say(message, 'Exception saved.');
      const box = form.querySelector('[data-exception-saved]');
      const yaml = form.querySelector('[data-exception-yaml]');
      const where = form.querySelector('[data-exception-file]');
      if (yaml) yaml.textContent = String(saved.yaml ?? '');
      if (where) {
        where.textContent = saved.file?.written
          ? `Written to ${saved.file.path}: the analysis applies it within seconds.`
          : 'Stored. The analysis here reads its exceptions from Git (a ConfigMap): add this entry under exceptions: in the committed file, or take the whole file from the Exceptions page.';
      }
      if (box instanceof HTMLElement) box.hidden = false;
    } catch (error) {
      if (submit instanceof HTMLButtonElement) submit.disabled = false;
      say(message, error instanceof ApiError ? `Could not save the exception: ${error.message}` : 'Could not save the exception.', true);
    }
  });
}

/** The alert list narrowed to the rule, the window and (where the list can filter on them) host and user. @param {string} ruleId @param {Record<string, string>} chosen @param {string} since */
function listLink(ruleId, chosen, since) {
  const params = new URLSearchParams({ rule_id: ruleId });
  if (chosen['host']) params.set('host', chosen['host']);
  if (chosen['user']) params.set('user', chosen['user']);
  if (since) params.set('since', since);
  return `/?${params}`;
}
