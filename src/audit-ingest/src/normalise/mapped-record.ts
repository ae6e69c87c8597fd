/** What a source mapper extracts from one record; the event builder adds ids, time and the source block. */
export interface MappedRecord {
  event_type: string;
  action_result: string;
  user_id: string;
  severity: 'INFO' | 'WARNING' | 'CRITICAL';
  details: Record<string, unknown>;
  /** Overrides the transport's time when the record carries a better one (auditd's own stamp). */
  timestampMs?: number;
  /**
   * How many times the sender saw this record: rsyslog's and journald's
   * "message repeated N times: [ ... ]" stand for N occurrences, each an event.
   */
  occurrences?: number;
}

/**
 * The outcome of mapping one record: an event, a record that is well formed
 * but carries nothing the rules use (counted as ignored), or one that cannot be
 * read (dead-lettered with the reason).
 */
export type MapOutcome =
  | { kind: 'event'; record: MappedRecord }
  | { kind: 'ignored'; why: string }
  | { kind: 'invalid'; reason: string; message: string };

export const ignored = (why: string): MapOutcome => ({ kind: 'ignored', why });
export const mapped = (record: MappedRecord): MapOutcome => ({ kind: 'event', record });
