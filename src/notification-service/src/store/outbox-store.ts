import type { AlertRecord } from './alert-store.ts';

/** One notification the routing decided on, written beside the alert in its transaction. */
export interface PlannedDelivery {
  alert_id: string;
  output: string;
  type: string;
  group_key: string;
  group_wait_ms: number;
  repeat_interval_ms: number;
  max_attempts: number;
}

/** Routes stored alerts to outputs (delivery/delivery-planner.ts); the store calls it inside the upsert. */
export interface DeliveryPlanner {
  /** The notifications for alerts just inserted or grown. */
  plan(records: readonly AlertRecord[]): PlannedDelivery[];
  /** After a commit that enqueued something: wakes the local worker. */
  enqueued(): void;
}

export type DeliveryKind = 'firing' | 'resolved';

export interface ClaimedDelivery {
  id: string;
  alert_id: string;
  output: string;
  type: string;
  group_key: string;
  kind: DeliveryKind;
  /** Including this one. */
  attempts: number;
  max_attempts: number;
  /** The alert's row JSON now, not when the notification was enqueued. */
  json: string;
}

export interface OutboxStore {
  claim(limit: number, owner: string, leaseMs: number): Promise<ClaimedDelivery[]>;
  markSent(ids: readonly string[], owner: string): Promise<number>;
  /** Resolves to the ids now `failed` for good (the others are pending a retry); `permanent` fails them at once. */
  markFailed(ids: readonly string[], owner: string, retryInMs: number, error: string, permanent: boolean): Promise<string[]>;
  markSilenced(id: string, owner: string, silenceIds: readonly string[]): Promise<void>;
  /** The delivery JSON texts of one alert, oldest first. */
  listForAlert(alertId: string): Promise<string[]>;
  countPending(): Promise<number>;
}
