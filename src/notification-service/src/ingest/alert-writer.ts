import { InvalidAlertDataError } from '../db/db-errors.ts';
import type { AlertRecord, AlertStore, UpsertOutcome } from '../store/alert-store.ts';
import { UndeliverableAlertError } from './alert-decoder.ts';

export type WriteResult = UpsertOutcome | UndeliverableAlertError;

/**
 * Writes one batch for the micro-batcher. Repeats of an alert id inside the
 * batch are folded first (one statement may not touch a row twice). If the
 * database refuses the batch over one bad value, the items are retried one by
 * one so only the culprit is dead-lettered; unavailability rejects the batch
 * (every caller retries).
 */
export async function writeAlertBatch(store: AlertStore, records: readonly AlertRecord[]): Promise<WriteResult[]> {
  const { unique, leaderOf } = foldRepeats(records);
  let outcomes: WriteResult[];
  try {
    outcomes = await store.upsertAlerts(unique);
  } catch (error) {
    if (!(error instanceof InvalidAlertDataError)) throw error;
    outcomes = [];
    for (const record of unique) outcomes.push(await writeOne(store, record));
  }
  return records.map((_record, index) => {
    const leader = leaderOf[index]!;
    if (leader.isLeader) return outcomes[leader.slot]!;
    const outcome = outcomes[leader.slot]!;
    return outcome instanceof UndeliverableAlertError ? outcome : 'duplicate';
  });
}

async function writeOne(store: AlertStore, record: AlertRecord): Promise<WriteResult> {
  try {
    const [outcome] = await store.upsertAlerts([record]);
    return outcome!;
  } catch (error) {
    if (error instanceof InvalidAlertDataError) {
      return new UndeliverableAlertError('rejected_by_database', error.message, error);
    }
    throw error;
  }
}

interface Slot {
  slot: number;
  isLeader: boolean;
}

/** Merges records sharing an alert id the way the upsert would: count/last_seen up, first_seen down. */
function foldRepeats(records: readonly AlertRecord[]): { unique: AlertRecord[]; leaderOf: Slot[] } {
  const unique: AlertRecord[] = [];
  const slotOf = new Map<string, number>();
  const leaderOf: Slot[] = [];
  for (const record of records) {
    const slot = slotOf.get(record.alert_id);
    if (slot === undefined) {
      slotOf.set(record.alert_id, unique.length);
      leaderOf.push({ slot: unique.length, isLeader: true });
      unique.push(record);
      continue;
    }
    leaderOf.push({ slot, isLeader: false });
    const kept = unique[slot]!;
    const newer = Date.parse(record.last_seen) >= Date.parse(kept.last_seen) ? record : kept;
    unique[slot] = {
      ...newer,
      count: Math.max(kept.count, record.count),
      first_seen: Date.parse(record.first_seen) < Date.parse(kept.first_seen) ? record.first_seen : kept.first_seen,
      last_seen: newer.last_seen,
    };
  }
  return { unique, leaderOf };
}
