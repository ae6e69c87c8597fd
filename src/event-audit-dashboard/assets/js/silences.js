// The silences page: create (from the form, prefilled from an alert row) and
// expire, through the dashboard's own API (the token stays on the server).
import { ApiError, postJson } from './api.js';
import { fillAuthor, rememberAuthor } from './author.js';
import { localizeTimes } from './time.js';

const actionsEnabled = document.body.dataset['actions'] === 'enabled';
const DURATION_MS = { '1h': 3_600_000, '4h': 4 * 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };
const OPS = { '=': [false, true], '!=': [false, false], '=~': [true, true], '!~': [true, false] };

localizeTimes(document);
for (const hint of document.querySelectorAll('[data-needs-js]')) /** @type {HTMLElement} */ (hint).hidden = true;

const form = document.querySelector('[data-silence-form]');
if (form instanceof HTMLFormElement && actionsEnabled) {
  fillAuthor(form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const used = new Set(data.getAll('use').map(String));
    const matchers = [...form.querySelectorAll('[data-matcher-row]')].flatMap((_row, i) => {
      if (!used.has(String(i))) return [];
      const op = /** @type {keyof typeof OPS} */ (String(data.get(`op-${i}`) ?? '='));
      const [isRegex, isEqual] = OPS[op] ?? OPS['='];
      return [{ name: String(data.get(`name-${i}`) ?? ''), value: String(data.get(`value-${i}`) ?? '').trim(), isRegex, isEqual }];
    });
    const out = form.querySelector('[data-form-message]');
    const submit = form.querySelector('button[type="submit"]');
    if (matchers.length === 0) {
      if (out) out.textContent = 'Check at least one matcher.';
      return;
    }
    const duration = /** @type {keyof typeof DURATION_MS} */ (String(data.get('duration') ?? '4h'));
    const createdBy = String(data.get('created_by') ?? '').trim();
    rememberAuthor(createdBy);
    if (submit instanceof HTMLButtonElement) submit.disabled = true;
    if (out) out.textContent = 'Creating…';
    try {
      const silence = await postJson('/api/silences', {
        matchers,
        comment: String(data.get('comment') ?? '').trim(),
        created_by: createdBy,
        ends_at: new Date(Date.now() + (DURATION_MS[duration] ?? DURATION_MS['4h'])).toISOString(),
      });
      location.assign(`/silences?highlight=${encodeURIComponent(String(silence?.id ?? ''))}`);
    } catch (error) {
      if (submit instanceof HTMLButtonElement) submit.disabled = false;
      if (out) {
        out.textContent = error instanceof ApiError ? `Could not create the silence: ${error.message}` : 'Could not create the silence.';
        out.classList.add('is-error');
      }
    }
  });
}

for (const button of document.querySelectorAll('[data-expire]')) {
  button.addEventListener('click', async () => {
    const id = /** @type {HTMLElement} */ (button).dataset['expire'] ?? '';
    const item = button.closest('[data-silence-id]');
    /** @type {HTMLButtonElement} */ (button).disabled = true;
    try {
      await postJson(`/api/silences/${encodeURIComponent(id)}/expire`, {});
      location.assign(`/silences?highlight=${encodeURIComponent(id)}`);
    } catch (error) {
      /** @type {HTMLButtonElement} */ (button).disabled = false;
      const message = document.createElement('p');
      message.className = 'form-message is-error';
      message.setAttribute('role', 'alert');
      message.textContent = error instanceof ApiError ? `Could not expire it: ${error.message}` : 'Could not expire it.';
      item?.append(message);
    }
  });
}
