import { toStoreError } from '../db/db-errors.ts';
import type { SqlClient } from '../db/sql-client.ts';
import { CLAIM_DUE, COUNT_PENDING, LIST_FOR_ALERT, MARK_FAILED, MARK_SENT, MARK_SILENCED } from './outbox-sql.ts';
import type { ClaimedDelivery, OutboxStore } from './outbox-store.ts';

/** The outbox over the alert store's own client (PostgreSQL or PGlite). */
export class SqlOutboxStore implements OutboxStore {
  readonly #client: SqlClient;

  constructor(client: SqlClient) {
    this.#client = client;
  }

  async claim(limit: number, owner: string, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.#rows<ClaimedDelivery>(CLAIM_DUE, [limit, owner, leaseMs], 'af_outbox_claim');
  }

  async markSent(ids: readonly string[], owner: string): Promise<number> {
    return (await this.#rows(MARK_SENT, [ids, owner], 'af_outbox_sent')).length;
  }

  async markFailed(ids: readonly string[], owner: string, retryInMs: number, error: string, permanent: boolean): Promise<string[]> {
    const params = [ids, owner, Math.round(retryInMs), error.slice(0, 2000), permanent];
    const rows = await this.#rows<{ id: string; status: string }>(MARK_FAILED, params, 'af_outbox_failed');
    return rows.filter((row) => row.status === 'failed').map((row) => row.id);
  }

  async markSilenced(id: string, owner: string, silenceIds: readonly string[]): Promise<void> {
    await this.#rows(MARK_SILENCED, [id, owner, silenceIds], 'af_outbox_silenced');
  }

  async listForAlert(alertId: string): Promise<string[]> {
    return (await this.#rows<{ json: string }>(LIST_FOR_ALERT, [alertId], 'af_outbox_list')).map((row) => row.json);
  }

  async countPending(): Promise<number> {
    return (await this.#rows<{ pending: number }>(COUNT_PENDING, [], 'af_outbox_pending'))[0]?.pending ?? 0;
  }

  async #rows<R>(text: string, params: readonly unknown[], name: string): Promise<R[]> {
    try {
      return (await this.#client.query<R>(text, params, { name })).rows;
    } catch (error) {
      throw toStoreError(error);
    }
  }
}
