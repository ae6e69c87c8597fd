import type { ResponseAction, ResponseDecision } from '@auditflow/common/contracts';
import { toStoreError } from '../db/db-errors.ts';
import type { SqlClient, SqlExecutor } from '../db/sql-client.ts';
import {
  FORGET_OPERATORS,
  GET_DECISION,
  GET_DECISION_FOR,
  INSERT_DECISION,
  INSERT_EVENT,
  LIST_FOR_ALERT,
  MARK_PUSH_FAILED,
  MARK_PUSHED,
  MARK_RECORDED,
  MARK_SKIPPED,
  MARK_UNDONE,
  OPERATOR_SEEN_WITHIN,
  SEEN_OPERATOR,
} from './response-sql.ts';

/** A decision as the API shows it (GET /alerts/{id}/response). */
export type Decision = ResponseDecision;

export interface NewDecision {
  id: string;
  alertId: string;
  output: string;
  mode: 'dry-run' | 'enforce';
  address: string | null;
  durationMs: number;
  state: 'pending' | 'recorded' | 'skipped';
  reason: string | null;
  decidedBy: string;
}

/** Decisions, their history and the operator addresses, over the alert store's client. */
export class ResponseStore {
  readonly #client: SqlClient;

  constructor(client: SqlClient) {
    this.#client = client;
  }

  /** The decision for (alert, output): the one made now, or the one an earlier attempt made. */
  async decide(decision: NewDecision, detail: string): Promise<{ decision: Decision; created: boolean }> {
    return this.#guard(() =>
      this.#client.transaction(async (tx) => {
        const params = [decision.id, decision.alertId, decision.output, decision.mode, decision.address, decision.durationMs, decision.state, decision.reason, decision.decidedBy];
        const inserted = await one(tx, INSERT_DECISION, params);
        if (inserted !== undefined) {
          const action: ResponseAction = decision.state === 'pending' ? 'decided' : decision.state;
          await event(tx, inserted, action, decision.decidedBy, decision.reason === null ? detail : `${detail}: ${decision.reason}`);
          return { decision: inserted, created: true };
        }
        const existing = await one(tx, GET_DECISION_FOR, [decision.alertId, decision.output]);
        if (existing === undefined) throw new Error('decision vanished between insert and read');
        return { decision: existing, created: false };
      }),
    );
  }

  /** Resolves to the pushed decision, or undefined when it was not pending any more (undone meanwhile). */
  async markPushed(decision: Decision, lapiAlertId: string, lapiDecisionIds: readonly string[], actor: string): Promise<Decision | undefined> {
    return this.#guard(() =>
      this.#client.transaction(async (tx) => {
        const pushed = await one(tx, MARK_PUSHED, [decision.id, lapiAlertId, lapiDecisionIds]);
        if (pushed !== undefined) await event(tx, pushed, 'pushed', actor, `LAPI alert ${lapiAlertId}, decision ${lapiDecisionIds.join(', ')}`);
        return pushed;
      }),
    );
  }

  async markSkipped(decision: Decision, reason: string, actor: string): Promise<Decision | undefined> {
    return this.#guard(() =>
      this.#client.transaction(async (tx) => {
        const skipped = await one(tx, MARK_SKIPPED, [decision.id, reason]);
        if (skipped !== undefined) await event(tx, skipped, 'skipped', actor, reason);
        return skipped;
      }),
    );
  }

  /** Undefined when the decision was not pending any more (undone or pushed meanwhile). */
  async markRecorded(decision: Decision, detail: string, actor: string): Promise<Decision | undefined> {
    return this.#guard(() =>
      this.#client.transaction(async (tx) => {
        const recorded = await one(tx, MARK_RECORDED, [decision.id]);
        if (recorded !== undefined) await event(tx, recorded, 'recorded', actor, detail);
        return recorded;
      }),
    );
  }

  async markPushFailed(decision: Decision, error: string, actor: string): Promise<void> {
    await this.#guard(() =>
      this.#client.transaction(async (tx) => {
        const { rows } = await tx.query(MARK_PUSH_FAILED, [decision.id, error.slice(0, 2000)], { name: 'af_response_push_failed' });
        if (rows.length > 0) await event(tx, decision, 'push-failed', actor, error.slice(0, 2000));
      }),
    );
  }

  /** Undefined when the decision was not undoable (skipped, or undone already). */
  async markUndone(decision: Decision, actor: string, detail: string): Promise<Decision | undefined> {
    return this.#guard(() =>
      this.#client.transaction(async (tx) => {
        const undone = await one(tx, MARK_UNDONE, [decision.id, actor]);
        if (undone !== undefined) await event(tx, undone, 'undone', actor, detail);
        return undone;
      }),
    );
  }

  async get(alertId: string, decisionId: string): Promise<Decision | undefined> {
    return this.#guard(() => one(this.#client, GET_DECISION, [decisionId, alertId]));
  }

  /** `{"decisions":[…],"events":[…]}` of one alert, oldest first. */
  async listForAlert(alertId: string): Promise<string> {
    const { rows } = await this.#guard(() =>
      this.#client.query<{ decisions: string; events: string }>(LIST_FOR_ALERT, [alertId], { name: 'af_response_list' }),
    );
    const row = rows[0];
    return `{"decisions":${row?.decisions ?? '[]'},"events":${row?.events ?? '[]'}}`;
  }

  async recordOperator(address: string, seenBy: string, forgetAfterMs: number): Promise<void> {
    await this.#guard(async () => {
      await this.#client.query(SEEN_OPERATOR, [address, seenBy.slice(0, 255)], { name: 'af_response_operator_seen' });
      await this.#client.query(FORGET_OPERATORS, [forgetAfterMs], { name: 'af_response_operator_forget' });
    });
  }

  /** Who (which token) was seen at the address within `withinMs`, or undefined. */
  async operatorSeen(address: string, withinMs: number): Promise<string | undefined> {
    const { rows } = await this.#guard(() =>
      this.#client.query<{ seen_by: string }>(OPERATOR_SEEN_WITHIN, [address, withinMs], { name: 'af_response_operator_within' }),
    );
    return rows[0]?.seen_by;
  }

  async #guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toStoreError(error);
    }
  }
}

async function one(executor: SqlExecutor, text: string, params: readonly unknown[]): Promise<Decision | undefined> {
  const { rows } = await executor.query<{ json: string }>(text, params);
  return rows[0] === undefined ? undefined : (JSON.parse(rows[0].json) as Decision);
}

async function event(tx: SqlExecutor, decision: Decision, action: ResponseAction, actor: string, detail: string | null): Promise<void> {
  await tx.query(INSERT_EVENT, [decision.id, decision.alert_id, action, actor.slice(0, 255), detail]);
}
