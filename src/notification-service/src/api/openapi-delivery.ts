import { deliverySchema } from './delivery-routes.ts';
import { matcherSchema, silenceSchema } from './silence-routes.ts';

/** The outbox and silences part of openapi.ts: its paths and schemas, from the routes' own schemas. */
const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});
const json = (description: string, schema: object) => ({ description, content: { 'application/json': { schema } } });
const silenceRef = { $ref: '#/components/schemas/Silence' };
const idParameter = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } } as const;

export const deliveryPaths = {
  '/alerts/{id}/deliveries': {
    parameters: [idParameter],
    get: {
      tags: ['alerts'],
      operationId: 'listAlertDeliveries',
      summary: 'The notifications of an alert: which outputs, when, with what result',
      responses: {
        '200': json('Oldest first.', {
          type: 'object',
          required: ['deliveries'],
          properties: { deliveries: { type: 'array', items: { $ref: '#/components/schemas/Delivery' } } },
        }),
        '400': problem('The id is not a UUID (AF_INVALID_ALERT_ID).'),
        '404': problem('No such alert (AF_ALERT_NOT_FOUND).'),
      },
    },
  },
  '/silences': {
    get: {
      tags: ['silences'],
      operationId: 'listSilences',
      summary: 'Silences, newest first',
      parameters: [{ name: 'state', in: 'query', schema: { type: 'string', enum: ['active', 'pending', 'expired', 'all'], default: 'all' } }],
      responses: {
        '200': json('The silences.', { type: 'object', required: ['silences'], properties: { silences: { type: 'array', items: silenceRef } } }),
        '400': problem('Unknown state (AF_VALIDATION_FAILED).'),
      },
    },
    post: {
      tags: ['silences'],
      operationId: 'createSilence',
      summary: 'Silence the alerts matching every matcher until ends_at (they are stored and shown, not notified)',
      security: [{ bearer: [] }],
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/NewSilence' } } } },
      responses: {
        '201': json('The silence.', silenceRef),
        '400': problem('Invalid body, matcher regex or times (AF_VALIDATION_FAILED, AF_INVALID_MATCHER, AF_SILENCE_ENDS_TOO_EARLY).'),
        '401': problem('No valid bearer token (AF_UNAUTHORIZED).'),
      },
    },
  },
  '/silences/{id}': {
    parameters: [idParameter],
    get: {
      tags: ['silences'],
      operationId: 'getSilence',
      summary: 'One silence',
      responses: { '200': json('The silence.', silenceRef), '404': problem('No such silence (AF_SILENCE_NOT_FOUND).') },
    },
    delete: {
      tags: ['silences'],
      operationId: 'expireSilence',
      summary: 'Expire a silence now (kept, as expired)',
      security: [{ bearer: [] }],
      responses: {
        '200': json('The expired silence.', silenceRef),
        '401': problem('No valid bearer token (AF_UNAUTHORIZED).'),
        '404': problem('No such silence (AF_SILENCE_NOT_FOUND).'),
      },
    },
  },
} as const;

export const deliverySchemas = {
  Delivery: deliverySchema,
  Silence: silenceSchema,
  Matcher: matcherSchema,
  NewSilence: {
    type: 'object',
    required: ['matchers', 'comment', 'ends_at'],
    properties: {
      matchers: { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/Matcher' } },
      comment: { type: 'string', minLength: 1 },
      ends_at: { type: 'string', format: 'date-time' },
      starts_at: { type: 'string', format: 'date-time', description: 'default: now' },
      created_by: { type: 'string', description: 'default: api' },
    },
  },
} as const;

/** Added to every alert row by the API (silences/silence-annotator.ts). */
export const silenceAlertProperties = {
  silenced: { type: 'boolean', description: 'a silence in force matches the alert: it is stored and shown, not notified' },
  silenced_by: { type: 'array', items: { type: 'string', format: 'uuid' }, description: 'ids of those silences' },
} as const;
