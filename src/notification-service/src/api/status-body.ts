import type { StatusChange as StatusChangeBody } from '@auditflow/common';
import type { StatusChange } from '../store/alert-store.ts';

/** Who the change is attributed to when neither the body nor the token names anybody. */
export const DEFAULT_ACTOR = 'api';

/**
 * The PATCH /alerts/{id} body (its schema checked fields, types and lengths)
 * as the store's change: null means absent, the actor defaults to the
 * token's name, lone surrogates become U+FFFD so the text is valid UTF-8.
 */
export function toStatusChange(body: StatusChangeBody, tokenName: string | undefined): StatusChange {
  const change: StatusChange = { status: body.status, actor: body.actor?.toWellFormed() ?? tokenName ?? DEFAULT_ACTOR };
  if (body.note !== undefined && body.note !== null) change.note = body.note.toWellFormed();
  return change;
}
