import { AuditFlowError, AfExceptionNotFoundError, ValidationError } from '@auditflow/common';
import {
  contractValidator,
  EXCEPTION_ID_SYNTAX,
  type ExceptionPreviewRequest,
  ExceptionPreviewRequestSchema,
  exceptionFieldsProblem,
  type NewException,
  NewExceptionSchema,
} from '@auditflow/common/contracts';
import { renderExceptionsFile } from '@auditflow/common/exceptions-file';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ExceptionsApi } from '../backend/exceptions-api.ts';
import { ActionsDisabledError } from '../errors.ts';
import { exceptionsPage } from '../views/exceptions-page.ts';
import { PAGE_HEADERS } from '../views/layout.ts';
import { ACTOR } from './api-routes.ts';
import type { AssetBundle } from './assets.ts';
import { assertSameOriginJson } from './csrf.ts';

export interface ExceptionRouteOptions {
  exceptions: ExceptionsApi;
  assets: AssetBundle;
  apiToken: string | undefined;
  logger: Logger;
}

/** The notification API's own body contracts: what passes here passes there. */
const isPreviewRequest = contractValidator(ExceptionPreviewRequestSchema);
const isNewException = contractValidator(NewExceptionSchema);
const EXCEPTION_ID = new RegExp(EXCEPTION_ID_SYNTAX);

/**
 * "Never alert on this" (the alert page's exception section) and the exceptions page. Every call
 * goes through this server, which holds the notification API token; changes are CSRF-checked like
 * the other dashboard actions.
 */
export function registerExceptionRoutes(app: FastifyInstance, options: ExceptionRouteOptions): void {
  const { exceptions, assets } = options;
  const csrf = { onRequest: async (request: FastifyRequest) => assertSameOriginJson(request) };
  const token = (): string => {
    if (options.apiToken === undefined) throw new ActionsDisabledError();
    return options.apiToken;
  };
  const actionsEnabled = options.apiToken !== undefined;

  app.post('/api/exceptions/preview', csrf, async (request) => exceptions.preview(previewRequest(request.body)));

  app.post('/api/exceptions', csrf, async (request, reply) => {
    const saved = await exceptions.create(newException(request.body), token());
    return reply.status(201).send(saved);
  });

  app.post<{ Params: { id: string } }>('/api/exceptions/:id/delete', csrf, async (request) => {
    const id = request.params.id;
    if (!EXCEPTION_ID.test(id)) throw new ValidationError('the exception id is malformed', [{ path: '/id', message: 'is malformed' }]);
    const deleted = await exceptions.delete(id, token());
    if (deleted === undefined) throw new AfExceptionNotFoundError(id);
    return deleted;
  });

  app.get('/exceptions', async (_request, reply: FastifyReply) => {
    const send = (status: number, body: string) => reply.status(status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(body);
    try {
      const { exceptions: list, file } = await exceptions.list();
      // The same rendering as GET /exceptions.yaml of the notification API: one function in common.
      const yaml = renderExceptionsFile(
        list.map(({ active: _active, expires_at, ...entry }) => ({ ...entry, ...(expires_at ? { expires_at } : {}) })),
      );
      return send(200, exceptionsPage({ assets, exceptions: list, file, yaml, actionsEnabled }));
    } catch (error) {
      if (!(error instanceof AuditFlowError)) throw error;
      options.logger.warn({ code: error.code, reason: error.message }, 'exceptions unavailable');
      const status = error.statusCode >= 500 ? error.statusCode : 502;
      return send(status, exceptionsPage({ assets, exceptions: undefined, problem: `${error.message} (${error.code})`, actionsEnabled }));
    }
  });
}

function object(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError('the body must be a JSON object');
  return body as Record<string, unknown>;
}

function checkFields(fields: unknown): void {
  if (typeof fields !== 'object' || fields === null) return;
  const problem = exceptionFieldsProblem(fields as Record<string, string>);
  if (problem !== undefined) throw new ValidationError(problem, [{ path: '/fields', message: problem }]);
}

function previewRequest(body: unknown): ExceptionPreviewRequest {
  const input = object(body);
  const request = { rule_id: input['rule_id'], fields: input['fields'], days: input['days'] };
  if (!isPreviewRequest(request)) throw new ValidationError(`invalid preview: ${summary(isPreviewRequest.errors)}`, isPreviewRequest.errors);
  checkFields(request.fields);
  return request;
}

/** The form's body: author typed on the form (as for silences), expiry as an instant or absent. */
function newException(body: unknown): NewException {
  const input = object(body);
  const author = typeof input['author'] === 'string' ? input['author'].trim() : '';
  const reason = typeof input['reason'] === 'string' ? input['reason'].trim() : input['reason'];
  const expires = input['expires_at'];
  const exception = {
    rule_id: input['rule_id'],
    fields: input['fields'],
    reason,
    author: author === '' ? ACTOR : author,
    ...(expires === undefined || expires === null || expires === '' ? {} : { expires_at: expires }),
  };
  if (!isNewException(exception)) throw new ValidationError(`invalid exception: ${summary(isNewException.errors)}`, isNewException.errors);
  checkFields(exception.fields);
  if (exception.expires_at !== undefined && Date.parse(exception.expires_at) <= Date.now()) {
    throw new ValidationError('expires_at must be in the future', [{ path: '/expires_at', message: 'must be in the future' }]);
  }
  return exception;
}

function summary(errors: readonly { path: string; message: string }[]): string {
  return errors
    .slice(0, 3)
    .map((e) => `${e.path} ${e.message}`)
    .join('; ');
}
