import type { KeysetPosition } from '../store/alert-store.ts';
import { ANY_UUID, AfInvalidCursorError } from '@auditflow/common';

/** The timestamp exactly as the database formats it (af_iso), so the position round-trips without loss. */
const STORED_INSTANT = /^\d{4,6}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Opaque to clients: base64url of [timestamp, alert_id] of the last row served. */
export function encodeCursor(position: KeysetPosition): string {
  return Buffer.from(JSON.stringify([position.timestamp, position.alertId]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): KeysetPosition {
  const invalid = () => new AfInvalidCursorError('cursor is not one this API issued');
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(value) || value.length !== 2) throw invalid();
  const [timestamp, alertId] = value as unknown[];
  if (typeof timestamp !== 'string' || !STORED_INSTANT.test(timestamp) || Number.isNaN(Date.parse(timestamp))) throw invalid();
  if (typeof alertId !== 'string' || !ANY_UUID.test(alertId)) throw invalid();
  return { timestamp, alertId: alertId.toLowerCase() };
}
