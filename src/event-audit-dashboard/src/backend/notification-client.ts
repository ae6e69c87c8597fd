import {
  type AlertRow,
  type AlertStats,
  type AlertStatsQuery,
  type AlertWithHistory,
  errorMessage,
  type ListAlertsQuery,
  type StatusChange,
} from '@auditflow/common';
import {
  BackendAuthRejectedError,
  BackendBadResponseError,
  BackendRejectedError,
  BackendTimeoutError,
  BackendUnavailableError,
} from '../errors.ts';
import type { BackendMetrics } from './metrics.ts';

export type { AlertRow, AlertStats, AlertWithHistory, StatusChange };

export interface AlertPage {
  rows: AlertRow[];
  /** Keyset cursor of the next (older) page; undefined on the last page. */
  nextCursor: string | undefined;
}

export interface NotificationClientOptions {
  baseUrl: string;
  timeoutMs: number;
  metrics: BackendMetrics;
  fetch?: typeof fetch;
}

/**
 * The notification-service REST API as the dashboard uses it, typed by the
 * same schemas (@auditflow/common) the service validates with: a parameter
 * the service does not know cannot be sent, a field it does not send cannot be read. Every call is
 * bounded by the configured timeout and counted; failures become typed errors
 * so pages and the JSON API can answer 503/404/400 instead of a blank 200.
 */
export class NotificationClient {
  readonly #base: string;
  readonly #timeoutMs: number;
  readonly #metrics: BackendMetrics;
  readonly #fetch: typeof fetch;

  constructor(options: NotificationClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs;
    this.#metrics = options.metrics;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  async listAlerts(params: ListAlertsQuery): Promise<AlertPage> {
    const response = await this.#call(`/alerts${query(params)}`);
    const body = await this.#json(response);
    if (!Array.isArray(body) || !body.every(isObject)) {
      throw this.#bad('GET /alerts did not return an array of objects');
    }
    const cursor = response.headers.get('x-next-cursor');
    return { rows: body as AlertRow[], nextCursor: cursor === null || cursor === '' ? undefined : cursor };
  }

  async stats(params: AlertStatsQuery): Promise<AlertStats> {
    const response = await this.#call(`/alerts/stats${query(params)}`);
    const body = await this.#json(response);
    if (!isObject(body)) throw this.#bad('GET /alerts/stats did not return an object');
    return body as AlertStats;
  }

  /** The alert with its history, or undefined when the service does not know it. */
  async getAlert(id: string): Promise<AlertWithHistory | undefined> {
    const response = await this.#call(`/alerts/${encodeURIComponent(id)}`, {}, [404]);
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    const body = await this.#json(response);
    if (!isObject(body)) throw this.#bad('GET /alerts/{id} did not return an object');
    return body as AlertWithHistory;
  }

  /** Undefined when the alert does not exist. */
  async changeStatus(id: string, change: StatusChange, token: string): Promise<AlertRow | undefined> {
    const response = await this.#call(
      `/alerts/${encodeURIComponent(id)}`,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(change),
      },
      [404],
    );
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    const body = await this.#json(response);
    if (!isObject(body)) throw this.#bad('PATCH /alerts/{id} did not return an object');
    return body as AlertRow;
  }

  /**
   * Any other JSON call (silences, deliveries: src/backend/triage-api.ts).
   * `passStatuses` come back as answers instead of errors, e.g. 404 from an
   * older service that lacks the route.
   */
  async send(
    method: string,
    path: string,
    options: { body?: unknown; token?: string; passStatuses?: number[] } = {},
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    const init: RequestInit = { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) };
    const response = await this.#call(path, init, options.passStatuses ?? []);
    if (!response.ok) return { status: response.status, body: await response.json().catch(() => null) };
    // 204 carries no body by definition (e.g. POST /response/operator-addresses): nothing to parse.
    if (response.status === 204) return { status: 204, body: undefined };
    return { status: response.status, body: await this.#json(response) };
  }

  /** Throws unless GET /healthz answers 2xx right now (the readiness check). */
  async checkHealth(): Promise<void> {
    const response = await this.#call('/healthz');
    await response.body?.cancel();
  }

  /**
   * Opens the SSE stream. Only the connection is under the timeout; the stream
   * itself lives until `signal` aborts or the service closes it.
   */
  async openStream(signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    // Not AbortSignal.timeout(): that would also cut the body off once the time is up.
    const controller = new AbortController();
    const forward = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', forward, { once: true });
    const connect = new AbortController();
    const timer = setTimeout(() => {
      connect.abort();
      controller.abort(new Error('connect timeout'));
    }, this.#timeoutMs);
    let response: Response;
    try {
      response = await this.#fetch(`${this.#base}/alerts/stream`, { headers, signal: controller.signal });
    } catch (error) {
      signal.removeEventListener('abort', forward);
      throw this.#transportError(error, connect.signal, signal);
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      this.#metrics.record(response.status >= 500 ? 'error' : 'ok');
      throw new BackendUnavailableError(`GET /alerts/stream answered ${response.status}`);
    }
    if (!(response.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      await response.body.cancel();
      throw this.#bad('GET /alerts/stream is not an event stream');
    }
    this.#metrics.record('ok');
    return response.body;
  }

  async #call(path: string, init: RequestInit = {}, passStatuses: number[] = []): Promise<Response> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let response: Response;
    try {
      response = await this.#fetch(`${this.#base}${path}`, {
        ...init,
        headers: { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) },
        signal: timeout,
      });
    } catch (error) {
      throw this.#transportError(error, timeout);
    }
    if (response.status >= 500) {
      await response.body?.cancel();
      this.#metrics.record('error');
      throw new BackendUnavailableError(`${init.method ?? 'GET'} ${path.split('?')[0]} answered ${response.status}`);
    }
    this.#metrics.record('ok');
    if (response.ok || passStatuses.includes(response.status)) return response;
    const detail = await problemDetail(response);
    if (response.status === 401 || response.status === 403) throw new BackendAuthRejectedError();
    throw new BackendRejectedError(response.status, detail ?? `the notification service answered ${response.status}`);
  }

  async #json(response: Response): Promise<unknown> {
    try {
      return await response.json();
    } catch (error) {
      throw this.#bad(`the notification service sent invalid JSON: ${errorMessage(error)}`);
    }
  }

  #bad(message: string): BackendBadResponseError {
    return new BackendBadResponseError(message);
  }

  #transportError(error: unknown, timeout: AbortSignal, caller?: AbortSignal): Error {
    if (caller?.aborted) return error instanceof Error ? error : new Error(String(error));
    if (timeout.aborted) {
      this.#metrics.record('timeout');
      return new BackendTimeoutError(this.#timeoutMs);
    }
    this.#metrics.record('error');
    return new BackendUnavailableError(`the notification service is unreachable: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}

function query(params: ListAlertsQuery | AlertStatsQuery): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `detail` of a problem+json answer, so a 400 from the service reaches the user verbatim. */
async function problemDetail(response: Response): Promise<string | undefined> {
  try {
    const body: unknown = await response.json();
    if (isObject(body) && typeof body['detail'] === 'string') return body['detail'].slice(0, 500);
  } catch {
    // Not a problem document: the status alone has to do.
  }
  return undefined;
}
