import { randomUUID } from 'node:crypto';
import { AfExceptionNotFoundError, AfInvalidExceptionError, AfInvalidParameterError, jsonBodyRoute, type Logger } from '@auditflow/common';
import {
  AlertExceptionSchema,
  EXCEPTION_ID_SYNTAX,
  type ExceptionPreviewRequest,
  ExceptionPreviewRequestSchema,
  ExceptionPreviewSchema,
  exceptionFieldsProblem,
  type NewException,
  NewExceptionSchema,
} from '@auditflow/common/contracts';
import { renderExceptionFragment, renderExceptionsFile } from '@auditflow/common/exceptions-file';
import { Counter, type Registry } from '@auditflow/common';
import type { FastifyInstance } from 'fastify';
import { previewException } from '../exceptions/exception-preview.ts';
import { type ExceptionStore, toEntry } from '../exceptions/exception-store.ts';
import type { ExceptionsFileWriter } from '../exceptions/exceptions-file-writer.ts';

export interface ExceptionRoutesDeps {
  exceptions: ExceptionStore;
  /** Set when EXCEPTIONS_FILE is writable here (all-in-one): every change rewrites it. */
  writer: ExceptionsFileWriter | undefined;
  /** EXCEPTIONS_FILE as configured, also when it is read-only here. */
  filePath: string | undefined;
  registry: Registry;
  logger: Logger;
  now: () => Date;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const YAML_TYPE = 'application/yaml; charset=utf-8';
const problemRef = (description: string) => ({ description, $ref: 'Problem' });
const exceptionRef = { $ref: 'AlertException' } as const;
const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: EXCEPTION_ID_SYNTAX, 'x-problem': { code: AfInvalidParameterError.code } } },
} as const;
const fileState = {
  type: 'object',
  required: ['path', 'written'],
  properties: {
    path: { type: ['string', 'null'], description: 'EXCEPTIONS_FILE of this service, if set' },
    written: { type: 'boolean', description: 'true when the file was rewritten (all-in-one); false: commit the fragment (or GET /exceptions.yaml) to Git' },
    error: { type: 'string' },
  },
} as const;

/** The exceptions API (docs/api.md, "Exceptions"). */
export function registerExceptionRoutes(app: FastifyInstance, deps: ExceptionRoutesDeps): void {
  const { exceptions, writer } = deps;
  app.addSchema(AlertExceptionSchema);
  const changes = new Counter({ name: 'notification_exception_changes_total', help: 'Exceptions saved and deleted', labelNames: ['action'], registers: [deps.registry] });
  const fileWrites = new Counter({
    name: 'notification_exceptions_file_writes_total',
    help: 'Rewrites of EXCEPTIONS_FILE after a change, by result',
    labelNames: ['result'],
    registers: [deps.registry],
  });
  for (const action of ['created', 'deleted']) changes.inc({ action }, 0);
  for (const result of ['ok', 'error']) fileWrites.inc({ result }, 0);

  /** Rewrites the file from the table; the stored change stands either way and the answer says whether the file followed. */
  const syncFile = async (): Promise<{ path: string | null; written: boolean; error?: string }> => {
    if (writer === undefined) return { path: deps.filePath ?? null, written: false };
    try {
      await writer.write((await exceptions.list()).map(toEntry));
      fileWrites.inc({ result: 'ok' });
      return { path: writer.path, written: true };
    } catch (error) {
      fileWrites.inc({ result: 'error' });
      deps.logger.error({ err: error, exceptions_file: writer.path }, 'cannot write the exceptions file; the exception is stored, the analysis does not see it yet');
      return { path: writer.path, written: false, error: (error as Error).message };
    }
  };

  app.post(
    '/exceptions/preview',
    {
      config: { scope: 'read' },
      ...jsonBodyRoute(),
      schema: {
        tags: ['exceptions'],
        operationId: 'previewException',
        summary: 'What an exception would have hidden among the stored alerts of the last `days` days',
        description:
          'Narrows to the rule and the window in SQL, then decides every alert with the same match the analysis uses. Reads at most 20000 alerts of the rule (newest first); `truncated` says when there were more.',
        body: ExceptionPreviewRequestSchema,
        response: { 200: ExceptionPreviewSchema, 400: problemRef('Invalid body (AF_INVALID_BODY) or fields (AF_INVALID_EXCEPTION).') },
      },
    },
    async (request) => {
      const body = request.body as ExceptionPreviewRequest;
      assertFields(body.fields);
      return previewException(exceptions, body, body.days, deps.now());
    },
  );

  app.post(
    '/exceptions',
    {
      config: { scope: 'admin' },
      ...jsonBodyRoute(),
      schema: {
        tags: ['exceptions'],
        operationId: 'createException',
        summary: 'Save an exception: alerts of the rule with exactly these label values are not raised any more',
        description:
          'Stores it and answers with the YAML fragment for the exceptions file. Where EXCEPTIONS_FILE is writable here (all-in-one) the file is rewritten and the analysis picks it up within EXCEPTIONS_RELOAD_SECONDS; otherwise commit the fragment to Git (docs/analysis-rules.md, "Exceptions").',
        body: NewExceptionSchema,
        response: {
          201: {
            type: 'object',
            required: ['exception', 'yaml', 'file'],
            properties: { exception: exceptionRef, yaml: { type: 'string', description: 'the entry as a list item of the exceptions file' }, file: fileState },
          },
          400: problemRef('Invalid body (AF_INVALID_BODY), fields or expiry (AF_INVALID_EXCEPTION).'),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as NewException;
      assertFields(body.fields);
      if (body.expires_at !== undefined && Date.parse(body.expires_at) <= deps.now().getTime()) {
        throw new AfInvalidExceptionError('expires_at must be in the future');
      }
      const created = await exceptions.create({
        id: randomUUID(),
        rule_id: body.rule_id,
        fields: body.fields,
        author: body.author ?? request.apiToken?.name ?? 'api',
        reason: body.reason,
        expires_at: body.expires_at === undefined ? undefined : new Date(body.expires_at).toISOString(),
      });
      changes.inc({ action: 'created' });
      request.log.info({ exception: created.id, rule_id: created.rule_id, fields: created.fields, author: created.author }, 'exception created');
      const file = await syncFile();
      return reply.code(201).type(JSON_TYPE).send({ exception: created, yaml: renderExceptionFragment(toEntry(created)), file });
    },
  );

  app.get(
    '/exceptions',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['exceptions'],
        operationId: 'listExceptions',
        summary: 'Every exception, in the order of the exceptions file',
        response: {
          200: {
            type: 'object',
            required: ['exceptions', 'file'],
            properties: { exceptions: { type: 'array', items: exceptionRef }, file: { type: 'object', properties: fileState.properties } },
          },
        },
      },
    },
    async () => ({ exceptions: await exceptions.list(), file: { path: deps.filePath ?? null, written: writer !== undefined } }),
  );

  app.get(
    '/exceptions.yaml',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['exceptions'],
        operationId: 'exportExceptions',
        summary: 'The whole exceptions file, deterministic, to review and commit to Git (and mount as the EXCEPTIONS_FILE ConfigMap)',
        response: { 200: { description: 'application/yaml', type: 'string' } },
      },
    },
    async (_request, reply) => reply.type(YAML_TYPE).send(renderExceptionsFile((await exceptions.list()).map(toEntry))),
  );

  app.delete(
    '/exceptions/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['exceptions'],
        operationId: 'deleteException',
        summary: 'Delete an exception (its alerts are raised again once the analysis reloads the file)',
        params: idParams,
        response: {
          200: { type: 'object', required: ['exception', 'file'], properties: { exception: exceptionRef, file: fileState } },
          400: problemRef('Malformed id (AF_INVALID_PARAMETER).'),
          404: problemRef('No such exception (AF_EXCEPTION_NOT_FOUND).'),
        },
      },
    },
    async (request) => {
      const id = (request.params as { id: string }).id;
      const deleted = await exceptions.delete(id);
      if (deleted === undefined) throw new AfExceptionNotFoundError(id);
      changes.inc({ action: 'deleted' });
      request.log.info({ exception: id }, 'exception deleted');
      return { exception: deleted, file: await syncFile() };
    },
  );
}

function assertFields(fields: Record<string, string>): void {
  const problem = exceptionFieldsProblem(fields);
  if (problem !== undefined) throw new AfInvalidExceptionError(problem);
}
