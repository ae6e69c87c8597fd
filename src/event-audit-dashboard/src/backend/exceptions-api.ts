import type { AlertException, ExceptionPreview, ExceptionPreviewRequest, NewException } from '@auditflow/common/contracts';
import { BackendBadResponseError, BackendFeatureMissingError } from '../errors.ts';
import type { NotificationClient } from './notification-client.ts';

/** Where the saved exception went: rewritten into EXCEPTIONS_FILE (all-in-one) or to be committed. */
export interface ExceptionFileState {
  path: string | null;
  written: boolean;
  error?: string;
}

export interface SavedException {
  exception: AlertException;
  yaml: string;
  file: ExceptionFileState;
}

/**
 * The exceptions routes of the notification API (docs/api.md, "Exceptions"). A 404 from a
 * collection route means the service predates them and is reported as such.
 */
export class ExceptionsApi {
  readonly #client: NotificationClient;

  constructor(client: NotificationClient) {
    this.#client = client;
  }

  async preview(request: ExceptionPreviewRequest): Promise<ExceptionPreview> {
    const { status, body } = await this.#client.send('POST', '/exceptions/preview', { body: request, passStatuses: [404] });
    if (status === 404) throw new BackendFeatureMissingError('exceptions', 'POST /exceptions/preview');
    if (!isObject(body) || typeof body['matched'] !== 'number') throw new BackendBadResponseError('POST /exceptions/preview did not return a preview');
    return body as unknown as ExceptionPreview;
  }

  async create(exception: NewException, token: string): Promise<SavedException> {
    const { status, body } = await this.#client.send('POST', '/exceptions', { body: exception, token, passStatuses: [404] });
    if (status === 404) throw new BackendFeatureMissingError('exceptions', 'POST /exceptions');
    if (!isObject(body) || !isObject(body['exception']) || typeof body['yaml'] !== 'string') {
      throw new BackendBadResponseError('POST /exceptions did not return the saved exception');
    }
    return body as unknown as SavedException;
  }

  async list(): Promise<{ exceptions: AlertException[]; file: ExceptionFileState }> {
    const { status, body } = await this.#client.send('GET', '/exceptions', { passStatuses: [404] });
    if (status === 404) throw new BackendFeatureMissingError('exceptions', 'GET /exceptions');
    if (!isObject(body) || !Array.isArray(body['exceptions'])) throw new BackendBadResponseError('GET /exceptions did not return {exceptions: [...]}');
    return body as unknown as { exceptions: AlertException[]; file: ExceptionFileState };
  }

  /** Undefined when no such exception exists. */
  async delete(id: string, token: string): Promise<{ exception: AlertException; file: ExceptionFileState } | undefined> {
    const { status, body } = await this.#client.send('DELETE', `/exceptions/${encodeURIComponent(id)}`, { token, passStatuses: [404] });
    if (status === 404) {
      await this.list();
      return undefined;
    }
    if (!isObject(body) || !isObject(body['exception'])) throw new BackendBadResponseError('DELETE /exceptions/{id} did not return the exception');
    return body as unknown as { exception: AlertException; file: ExceptionFileState };
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
