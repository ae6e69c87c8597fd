/**
 * The one rule by which every consumer turns message bytes into a JSON object
 * (docs/api.md, "Decoding a message"). The content type is not consulted: the
 * original services publish none, and a body that claims to be JSON is still
 * only what its bytes are. Each step has its own reason, so a dead letter says
 * what was wrong with it:
 *
 * 1. `oversized`    more bytes than the consumer accepts;
 * 2. `invalid_utf8` not UTF-8 (a leading byte-order mark is allowed and skipped);
 * 3. `invalid_json` not JSON text;
 * 4. `too_deep`     objects and arrays nest deeper than MAX_JSON_DEPTH: no
 *                   contract needs more, and a deeper value would overflow the
 *                   stack of every recursive step after parsing (schema check,
 *                   serialisation), failing forever instead of once;
 * 5. `not_object`   JSON, but not an object: an array, a number, or a string,
 *                   even a string that holds an encoded object (never unwrapped).
 *
 * The consumer then checks the object against its schema (reason `schema`).
 */
export type BodyDecodeFailure = 'oversized' | 'invalid_utf8' | 'invalid_json' | 'too_deep' | 'not_object';

/** Deepest nesting of objects and arrays any message or request body may have. */
export const MAX_JSON_DEPTH = 64;

export class BodyDecodeError extends Error {
  readonly reason: BodyDecodeFailure;
  constructor(reason: BodyDecodeFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BodyDecodeError';
    this.reason = reason;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** `what` names the message in errors ("event", "alert"). */
export function decodeJsonObject(body: Uint8Array, maxBytes: number, what: string, maxDepth = MAX_JSON_DEPTH): Record<string, unknown> {
  if (body.byteLength > maxBytes) {
    throw new BodyDecodeError('oversized', `${what} of ${body.byteLength} bytes exceeds the ${maxBytes}-byte limit`);
  }
  let text: string;
  try {
    text = utf8.decode(body);
  } catch (error) {
    throw new BodyDecodeError('invalid_utf8', `${what} body is not valid UTF-8`, { cause: error });
  }
  const depth = jsonNestingExceeds(text, maxDepth);
  if (depth !== undefined) {
    throw new BodyDecodeError('too_deep', `${what} body nests deeper than ${maxDepth} levels (at byte ${depth})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BodyDecodeError('invalid_json', `${what} body is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw new BodyDecodeError('not_object', `${what} body is JSON ${kind}, not an object`);
  }
  return value as Record<string, unknown>;
}

/**
 * The offset at which JSON text first nests deeper than `maxDepth`, or
 * undefined. One linear pass that skips string contents, run before parsing so
 * nothing recursive ever sees the value; malformed text is left to JSON.parse.
 */
export function jsonNestingExceeds(text: string, maxDepth: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return i;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return undefined;
}
