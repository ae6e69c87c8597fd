import { randomUUID } from 'node:crypto';
import { jsonBodyRoute, UUID_SYNTAX, AfInvalidSilenceIdError, AfSilenceNotFoundError, AfSilenceEndsTooEarlyError, AfSilenceTooLongError, AfInvalidMatcherError } from '@auditflow/common';
import { MAX_SILENCE_DAYS, type NewSilence, NewSilenceSchema, SILENCE_STATES, type SilenceState, SilenceSchema } from '@auditflow/common/contracts';
import type { FastifyInstance } from 'fastify';
import { compileMatcher } from '../delivery/matchers.ts';
import type { SilenceAnnotator } from '../silences/silence-annotator.ts';
import type { SilenceStore } from '../silences/silence-store.ts';

export interface SilenceRoutesDeps {
  silences: SilenceStore;
  annotator: SilenceAnnotator;
  now: () => Date;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_SILENCE_MS = MAX_SILENCE_DAYS * 86_400_000;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: UUID_SYNTAX, 'x-problem': { code: AfInvalidSilenceIdError.code } } },
} as const;
const silenceRef = { $ref: 'Silence' } as const;
const problemRef = (description: string) => ({ description, $ref: 'Problem' });
const byIdResponses = {
  200: silenceRef,
  400: problemRef('The id is not a UUID (AF_INVALID_SILENCE_ID).'),
  404: problemRef('No such silence (AF_SILENCE_NOT_FOUND).'),
};

export const SilenceNotFoundError = AfSilenceNotFoundError;

/** The silences API (docs/api.md, shared contract with the dashboard). */
export function registerSilenceRoutes(app: FastifyInstance, deps: SilenceRoutesDeps): void {
  const { silences, annotator } = deps;
  app.addSchema(SilenceSchema);

  app.get(
    '/silences',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['silences'],
        operationId: 'listSilences',
        summary: 'Silences, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { state: { type: 'string', enum: SILENCE_STATES, default: 'all' } },
        },
        response: {
          200: { type: 'object', required: ['silences'], properties: { silences: { type: 'array', items: silenceRef } } },
          400: problemRef('Unknown state (AF_INVALID_PARAMETER) or parameter (AF_UNKNOWN_PARAMETER).'),
        },
      },
    },
    async (request, reply) => {
      const state = ((request.query as { state?: SilenceState | 'all' }).state ?? 'all') as SilenceState | 'all';
      return reply.type(JSON_TYPE).send(`{"silences":[${(await silences.list(state)).join(',')}]}`);
    },
  );

  app.get(
    '/silences/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['silences'],
        operationId: 'getSilence',
        summary: 'One silence',
        params: idParams,
        response: byIdResponses,
      },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id.toLowerCase();
      const json = await silences.get(id);
      if (json === undefined) throw new SilenceNotFoundError(id);
      return reply.type(JSON_TYPE).send(json);
    },
  );

  app.post(
    '/silences',
    {
      config: { scope: 'admin' },
      ...jsonBodyRoute(),
      schema: {
        tags: ['silences'],
        operationId: 'createSilence',
        summary: 'Silence the alerts matching every matcher until ends_at (they are stored and shown, not notified)',
        body: NewSilenceSchema,
        response: {
          201: silenceRef,
          400: problemRef('Invalid body (AF_INVALID_BODY), matcher regex (AF_INVALID_MATCHER) or times (AF_SILENCE_ENDS_TOO_EARLY, AF_SILENCE_TOO_LONG).'),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as NewSilence;
      const now = deps.now();
      const startsAt = body.starts_at === undefined ? now : new Date(body.starts_at);
      const endsAt = new Date(body.ends_at);
      if (endsAt.getTime() <= Math.max(now.getTime(), startsAt.getTime())) {
        throw new AfSilenceEndsTooEarlyError();
      }
      if (endsAt.getTime() - startsAt.getTime() > MAX_SILENCE_MS) {
        throw new AfSilenceTooLongError();
      }
      body.matchers.forEach((matcher, index) => {
        try {
          compileMatcher(matcher);
        } catch (error) {
          throw new AfInvalidMatcherError(`matchers[${index}]: invalid regular expression: ${(error as Error).message}`);
        }
      });
      const json = await silences.create({
        id: randomUUID(),
        matchers: body.matchers.map(({ name, value, isRegex, isEqual }) => ({ name, value, isRegex, isEqual })),
        createdBy: body.created_by ?? 'api',
        comment: body.comment,
        startsAt,
        endsAt,
      });
      annotator.invalidate();
      request.log.info({ silence: JSON.parse(json).id }, 'silence created');
      return reply.code(201).type(JSON_TYPE).send(json);
    },
  );

  app.delete(
    '/silences/:id',
    {
      config: { scope: 'admin' },
      schema: {
        tags: ['silences'],
        operationId: 'expireSilence',
        summary: 'Expire a silence now (kept, as expired)',
        params: idParams,
        response: byIdResponses,
      },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id.toLowerCase();
      const json = await silences.expire(id);
      if (json === undefined) throw new SilenceNotFoundError(id);
      annotator.invalidate();
      request.log.info({ silence: id }, 'silence expired');
      return reply.type(JSON_TYPE).send(json);
    },
  );
}
