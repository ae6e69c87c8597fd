// The exceptions page: delete, through the dashboard's own API (the token stays on the server).
import { ApiError, postJson } from './api.js';
import { localizeTimes } from './time.js';

localizeTimes(document);

for (const button of document.querySelectorAll('[data-delete-exception]')) {
  button.addEventListener('click', async () => {
    const id = /** @type {HTMLElement} */ (button).dataset['deleteException'] ?? '';
    /** @type {HTMLButtonElement} */ (button).disabled = true;
    try {
      await postJson(`/api/exceptions/${encodeURIComponent(id)}/delete`, {});
      location.assign('/exceptions');
    } catch (error) {
      /** @type {HTMLButtonElement} */ (button).disabled = false;
      const message = document.createElement('p');
      message.className = 'form-message is-error';
      message.setAttribute('role', 'alert');
      message.textContent = error instanceof ApiError ? `Could not delete it: ${error.message}` : 'Could not delete it.';
      button.closest('[data-exception-id]')?.append(message);
    }
  });
}
