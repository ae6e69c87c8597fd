import { randomUUID } from 'node:crypto';
import { AuditFlowError, jsonBodyRoute, UUID_SYNTAX } from '@auditflow/common';
import type { FastifyInstance } from 'fastify';
import { compileMatcher, type Matcher } from '../delivery/matchers.ts';
import type { SilenceAnnotator } from '../silences/silence-annotator.ts';
import type { SilenceState, SilenceStore } from '../silences/silence-store.ts';
import { BadRequestError } from './api-errors.ts';

export interface SilenceRoutesDeps {
  silences: SilenceStore;
  annotator: SilenceAnnotator;
  now: () => Date;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const STATES = ['active', 'pending', 'expired', 'all'] as const;
/** Longest silence accepted: a forgotten one should not mute an alert for years. */
const MAX_SILENCE_MS = 366 * 86_400_000;

export const matcherSchema = {
  type: 'object',
  required: ['name', 'value', 'isRegex', 'isEqual'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 100 },
    value: { type: 'string', maxLength: 1000 },
    isRegex: { type: 'boolean' },
    isEqual: { type: 'boolean' },
  },
} as const;

export const silenceSchema = {
  $id: 'Silence',
  type: 'object',
  required: ['id', 'matchers', 'created_by', 'comment', 'starts_at', 'ends_at', 'updated_at', 'status'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    matchers: { type: 'array', items: matcherSchema },
    created_by: { type: 'string' },
    comment: { type: 'string' },
    starts_at: { type: 'string', format: 'date-time' },
    ends_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    status: { type: 'string', enum: ['pending', 'active', 'expired'] },
  },
} as const;

const createBodySchema = {
  type: 'object',
  required: ['matchers', 'comment', 'ends_at'],
  additionalProperties: false,
  properties: {
    matchers: { type: 'array', minItems: 1, maxItems: 32, items: matcherSchema },
    comment: { type: 'string', minLength: 1, maxLength: 2000 },
    ends_at: { type: 'string', format: 'date-time' },
    starts_at: { type: 'string', format: 'date-time' },
    created_by: { type: 'string', minLength: 1, maxLength: 255 },
  },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: UUID_SYNTAX, 'x-problem': { code: 'AF_INVALID_SILENCE_ID' } } },
} as const;
const silenceRef = { $ref: 'Silence' } as const;
const problemRef = (description: string) => ({ description, $ref: 'Problem' });
const byIdResponses = {
  200: silenceRef,
  400: problemRef('The id is not a UUID (AF_INVALID_SILENCE_ID).'),
  404: problemRef('No such silence (AF_SILENCE_NOT_FOUND).'),
};

interface CreateBody {
  matchers: Matcher[];
  comment: string;
  ends_at: string;
  starts_at?: string;
  created_by?: string;
}

export class SilenceNotFoundError extends AuditFlowError {
  constructor(id: string) {
    super('AF_SILENCE_NOT_FOUND', `Silence not found: ${id}`, { statusCode: 404 });
  }
}

/** The silences API (docs/api.md, shared contract with the dashboard). */
export function registerSilenceRoutes(app: FastifyInstance, deps: SilenceRoutesDeps): void {
  const { silences, annotator } = deps;
  app.addSchema(silenceSchema);

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
          properties: { state: { type: 'string', enum: STATES, default: 'all' } },
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
        body: createBodySchema,
        response: {
          201: silenceRef,
          400: problemRef('Invalid body (AF_INVALID_BODY), matcher regex (AF_INVALID_MATCHER) or times (AF_SILENCE_ENDS_TOO_EARLY, AF_SILENCE_TOO_LONG).'),
        },
      },
    },
    async (request, reply) => {
      const body = request.body as CreateBody;
      const now = deps.now();
      const startsAt = body.starts_at === undefined ? now : new Date(body.starts_at);
      const endsAt = new Date(body.ends_at);
      if (endsAt.getTime() <= Math.max(now.getTime(), startsAt.getTime())) {
        throw new BadRequestError('AF_SILENCE_ENDS_TOO_EARLY', 'ends_at must be after starts_at and in the future');
      }
      if (endsAt.getTime() - startsAt.getTime() > MAX_SILENCE_MS) {
        throw new BadRequestError('AF_SILENCE_TOO_LONG', 'a silence lasts at most 366 days');
      }
      body.matchers.forEach((matcher, index) => {
        try {
          compileMatcher(matcher);
        } catch (error) {
          const problem = `is not a valid RE2 regular expression: ${(error as Error).message}`;
          throw new BadRequestError('AF_INVALID_MATCHER', `matchers[${index}].value ${problem}`, [{ path: `/matchers/${index}/value`, message: problem }]);
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
