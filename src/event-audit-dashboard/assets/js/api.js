// Same-origin calls to the dashboard's JSON API; errors carry the problem
// document's code and detail so the page can say what went wrong.

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

/** @param {Response} response */
async function parse(response) {
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = body && typeof body.detail === 'string' ? body.detail : `request failed (${response.status})`;
    throw new ApiError(response.status, body?.code ?? 'AF_HTTP', detail);
  }
  return body;
}

/** @param {string} url */
export async function getJson(url) {
  let response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'AF_NETWORK', 'the dashboard cannot be reached');
  }
  return parse(response);
}

/** @param {string} url @param {unknown} body */
export async function postJson(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'AF_NETWORK', 'the dashboard cannot be reached');
  }
  return parse(response);
}
