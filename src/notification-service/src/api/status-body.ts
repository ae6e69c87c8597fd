import { ALERT_STATUSES, type AlertStatus, type StatusChange } from '../store/alert-store.ts';
import { BadRequestError } from './api-errors.ts';

export const MAX_NOTE = 2000;
export const MAX_ACTOR = 255;
/** Who the change is attributed to when the body names nobody. */
export const DEFAULT_ACTOR = 'api';

const ALLOWED = new Set(['status', 'note', 'actor']);

/** The PATCH /alerts/{id} body: {status, note?, actor?}; anything else is refused with the field named. */
export function parseStatusChange(body: unknown): StatusChange {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw bad('/', 'the body must be a JSON object');
  }
  const record = body as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!ALLOWED.has(key)) throw bad(`/${key}`, 'is not a known field (status, note, actor)');
  }
  const status = record['status'];
  if (typeof status !== 'string' || !ALERT_STATUSES.includes(status as AlertStatus)) {
    throw bad('/status', 'must be one of open, acknowledged, resolved');
  }
  const change: StatusChange = { status: status as AlertStatus, actor: DEFAULT_ACTOR };
  const note = record['note'];
  if (note !== undefined && note !== null) change.note = checkText(note, 'note', MAX_NOTE, 0);
  const actor = record['actor'];
  if (actor !== undefined && actor !== null) change.actor = checkText(actor, 'actor', MAX_ACTOR, 1);
  return change;
}

function checkText(value: unknown, field: string, max: number, min: number): string {
  if (typeof value !== 'string') throw bad(`/${field}`, 'must be a string');
  if (value.includes('\u0000')) throw bad(`/${field}`, 'must not contain NUL characters');
  const text = value.toWellFormed();
  if (text.length > max) throw bad(`/${field}`, `must be at most ${max} characters`);
  if (text.trim().length < min) throw bad(`/${field}`, 'must not be empty');
  return text;
}

function bad(path: string, message: string): BadRequestError {
  return new BadRequestError('AF_INVALID_BODY', `invalid body: ${path} ${message}`, [{ path, message }]);
}
