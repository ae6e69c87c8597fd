import type { AlertResponse, ResponseDecision } from '@auditflow/common/contracts';
import { BackendBadResponseError, BackendFeatureMissingError } from '../errors.ts';
import type { NotificationClient } from './notification-client.ts';

export type { AlertResponse, ResponseDecision };

/**
 * The response routes of the notification API (docs/api.md, "Response decisions"): an alert's
 * decisions and history, their undo, and the report of where a dashboard user works from.
 */
export class ResponseApi {
  readonly #client: NotificationClient;

  constructor(client: NotificationClient) {
    this.#client = client;
  }

  /** The decisions of an alert the caller knows exists (so a 404 means "no such route"). */
  async forAlert(alertId: string): Promise<AlertResponse> {
    const { status, body } = await this.#client.send('GET', `/alerts/${encodeURIComponent(alertId)}/response`, { passStatuses: [404] });
    if (status === 404) throw new BackendFeatureMissingError('response decisions', 'GET /alerts/{id}/response');
    if (!isObject(body) || !Array.isArray(body['decisions']) || !Array.isArray(body['events'])) {
      throw new BackendBadResponseError('GET /alerts/{id}/response did not return {decisions, events}');
    }
    return body as unknown as AlertResponse;
  }

  /** Undefined when the alert has no such decision. */
  async undo(alertId: string, decisionId: string, actor: string, note: string | undefined, token: string): Promise<ResponseDecision | undefined> {
    const path = `/alerts/${encodeURIComponent(alertId)}/response/${encodeURIComponent(decisionId)}/undo`;
    const { status, body } = await this.#client.send('POST', path, { body: note ? { actor, note } : { actor }, token, passStatuses: [404] });
    if (status === 404) return undefined;
    if (!isObject(body)) throw new BackendBadResponseError('POST /alerts/{id}/response/{decision_id}/undo did not return a decision');
    return body as unknown as ResponseDecision;
  }

  async reportOperator(address: string, seenBy: string, token: string): Promise<void> {
    await this.#client.send('POST', '/response/operator-addresses', { body: { address, seen_by: seenBy }, token, passStatuses: [404] });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
