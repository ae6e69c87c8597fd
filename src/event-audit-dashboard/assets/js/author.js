// The typed author of silences and exceptions: one remembered name for every form that asks for
// it (the dashboard has no login), kept in this browser only.

const AUTHOR_KEY = 'auditflow.silence-author';

/** Fills every empty [data-author] input of `root` with the remembered name. @param {ParentNode} root */
export function fillAuthor(root) {
  for (const input of root.querySelectorAll('[data-author]')) {
    if (input instanceof HTMLInputElement && !input.value) input.value = localStorage.getItem(AUTHOR_KEY) ?? '';
  }
}

/** Remembers the name typed into a form. @param {string} name */
export function rememberAuthor(name) {
  if (name.trim() !== '') localStorage.setItem(AUTHOR_KEY, name.trim());
}
