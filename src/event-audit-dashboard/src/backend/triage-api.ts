import { BackendBadResponseError, BackendFeatureMissingError } from '../errors.ts';
import type { NotificationClient } from './notification-client.ts';

/** A silence as the notification API returns it (docs/api.md, "Silences"). */
export type Silence = Record<string, unknown>;
export type Delivery = Record<string, unknown>;

export interface DeliveryReport {
  items: Delivery[];
  outputsConfigured?: boolean;
  outputsLoadedAt?: string;
}
export type SilenceState = 'active' | 'pending' | 'expired' | 'all';

export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export interface NewSilence {
  matchers: Matcher[];
  comment: string;
  ends_at: string;
  starts_at?: string;
  created_by?: string;
}

/**
 * The silences and deliveries routes of the notification API. A 404 from
 * the collection routes means the service predates them, and is reported as
 * such instead of as "not found".
 */
export class TriageApi {
  readonly #client: NotificationClient;

  constructor(client: NotificationClient) {
    this.#client = client;
  }

  async listSilences(state: SilenceState): Promise<Silence[]> {
    const { status, body } = await this.#client.send('GET', `/silences?state=${state}`, { passStatuses: [404] });
    if (status === 404) throw new BackendFeatureMissingError('silences', 'GET /silences');
    const items = Array.isArray(body) ? body : isObject(body) && Array.isArray(body['silences']) ? body['silences'] : undefined;
    if (items === undefined || !items.every(isObject)) throw new BackendBadResponseError('GET /silences did not return a list of silences');
    return items;
  }

  async createSilence(silence: NewSilence, token: string): Promise<Silence> {
    const { status, body } = await this.#client.send('POST', '/silences', { body: silence, token, passStatuses: [404] });
    if (status === 404) throw new BackendFeatureMissingError('silences', 'POST /silences');
    if (!isObject(body)) throw new BackendBadResponseError('POST /silences did not return a silence');
    return body;
  }

  /** Undefined when no such silence exists. */
  async expireSilence(id: string, token: string): Promise<Silence | undefined> {
    const { status, body } = await this.#client.send('DELETE', `/silences/${encodeURIComponent(id)}`, { token, passStatuses: [404] });
    if (status === 404) {
      // An old service has no silences at all; a new one just does not know this id.
      await this.listSilences('active');
      return undefined;
    }
    if (!isObject(body)) throw new BackendBadResponseError('DELETE /silences/{id} did not return a silence');
    return body;
  }

  /** The deliveries with what the service says about its outputs (older services say nothing). */
  async deliveryReport(alertId: string): Promise<DeliveryReport> {
    const path = `/alerts/${encodeURIComponent(alertId)}/deliveries`;
    const { status, body } = await this.#client.send('GET', path, { passStatuses: [404] });
    if (status === 404) throw new BackendFeatureMissingError('deliveries', 'GET /alerts/{id}/deliveries');
    const items = isObject(body) ? body['deliveries'] : undefined;
    if (!Array.isArray(items) || !items.every(isObject)) {
      throw new BackendBadResponseError('GET /alerts/{id}/deliveries did not return {deliveries: [...]}');
    }
    const record = body as Record<string, unknown>;
    return {
      items,
      ...(typeof record['outputs_configured'] === 'boolean' ? { outputsConfigured: record['outputs_configured'] } : {}),
      ...(typeof record['outputs_loaded_at'] === 'string' ? { outputsLoadedAt: record['outputs_loaded_at'] } : {}),
    };
  }

  /** The evidence of an alert (GET /alerts/{id}/evidence); undefined when the service predates it. */
  async evidence(alertId: string): Promise<Record<string, unknown> | undefined> {
    const { status, body } = await this.#client.send('GET', `/alerts/${encodeURIComponent(alertId)}/evidence`, { passStatuses: [404] });
    if (status === 404 || !isObject(body)) return undefined;
    return body;
  }

  /** GET /activity: alerts and evidence events of one host, user or address. */
  async activity(query: URLSearchParams): Promise<{ status: number; body: unknown }> {
    return this.#client.send('GET', `/activity?${query.toString()}`, { passStatuses: [400, 404] });
  }

  /** The deliveries of an alert the caller knows exists (so a 404 means "no such route"). */
  async deliveries(alertId: string): Promise<Delivery[]> {
    const path = `/alerts/${encodeURIComponent(alertId)}/deliveries`;
    const { status, body } = await this.#client.send('GET', path, { passStatuses: [404] });
    if (status === 404) throw new BackendFeatureMissingError('deliveries', 'GET /alerts/{id}/deliveries');
    const items = isObject(body) ? body['deliveries'] : undefined;
    if (!Array.isArray(items) || !items.every(isObject)) {
      throw new BackendBadResponseError('GET /alerts/{id}/deliveries did not return {deliveries: [...]}');
    }
    return items;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
