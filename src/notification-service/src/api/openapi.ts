import { ALERT_STATUSES } from '../store/alert-store.ts';
import { deliveryPaths, deliverySchemas, silenceAlertProperties } from './openapi-delivery.ts';
import { DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET, MAX_TIMELINE_BUCKETS } from './query-params.ts';
import { MAX_ACTOR, MAX_NOTE } from './status-body.ts';

const nullableString = { type: ['string', 'null'] } as const;
const nullableInstant = { type: ['string', 'null'], format: 'date-time' } as const;
const nullableObject = { type: ['object', 'null'] } as const;

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

const filterParameters = [
  { name: 'severity', in: 'query', description: 'Comma-separated severities, e.g. CRITICAL,WARNING (exact match, at most 10).', schema: { type: 'string' } },
  { name: 'status', in: 'query', description: 'Comma-separated statuses.', schema: { type: 'string', example: 'open,acknowledged' } },
  { name: 'rule_id', in: 'query', description: 'Comma-separated rule ids (at most 20).', schema: { type: 'string' } },
  { name: 'user', in: 'query', description: 'actor_id equals this.', schema: { type: 'string', maxLength: 255 } },
  { name: 'host', in: 'query', description: 'server_hostname equals this.', schema: { type: 'string', maxLength: 255 } },
  { name: 'since', in: 'query', description: 'timestamp >= this (ISO-8601; without a zone read as UTC).', schema: { type: 'string', format: 'date-time' } },
  { name: 'until', in: 'query', description: 'timestamp < this (ISO-8601).', schema: { type: 'string', format: 'date-time' } },
  {
    name: 'q',
    in: 'query',
    description: 'Words (at most 8) that must all occur, as prefixes, in alert_name or description; case-insensitive.',
    schema: { type: 'string', maxLength: 200 },
  },
] as const;

const alertProperties = {
  alert_id: { type: 'string', format: 'uuid' },
  correlation_id: { type: 'string', format: 'uuid', description: 'event_id of the audit event that caused the alert' },
  timestamp: { type: 'string', format: 'date-time' },
  received_at: nullableInstant,
  alert_name: { type: 'string' },
  alert_type: { type: 'string' },
  severity: { type: 'string' },
  description: nullableString,
  source_service_name: nullableString,
  rule_id: nullableString,
  rule_name: nullableString,
  actor_type: nullableString,
  actor_id: nullableString,
  client_ip: { type: ['string', 'null'], description: 'null when the producer sent no valid IP address' },
  resource_type: nullableString,
  resource_id: nullableString,
  server_hostname: nullableString,
  action_observed: nullableString,
  analysis_rule_details: nullableObject,
  triggered_by_details: nullableObject,
  impacted_resource_details: nullableObject,
  metadata: nullableObject,
  raw_event_data: { type: 'object' },
  status: { type: 'string', enum: ALERT_STATUSES },
  status_changed_at: nullableInstant,
  status_changed_by: nullableString,
  status_note: nullableString,
  count: { type: 'integer', minimum: 1, description: 'matching events folded into this alert' },
  first_seen: { type: 'string', format: 'date-time' },
  last_seen: { type: 'string', format: 'date-time' },
  fingerprint: nullableString,
  group_key: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
  updated_at: { type: 'string', format: 'date-time' },
  ...silenceAlertProperties,
} as const;

/**
 * The OpenAPI 3.1 description of the notification REST API, served at
 * GET /openapi.json. A test checks that it lists exactly the routes fastify
 * serves, so it cannot drift from the code.
 */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'AuditFlow notification-service API',
    version: '1.0.0',
    description:
      'Stores the alerts raised by audit-log-analysis and serves them. Errors are RFC 9457 problem+json with a stable `code`. ' +
      'Timestamps are ISO-8601 UTC with microseconds and a `Z`. Unknown query parameters are ignored; a parameter given twice is a 400.',
  },
  servers: [{ url: 'http://notification-service:8000' }],
  tags: [{ name: 'alerts' }, { name: 'operations' }],
  paths: {
    ...deliveryPaths,
    '/alerts': {
      get: {
        tags: ['alerts'],
        operationId: 'listAlerts',
        summary: 'List alerts, newest first',
        description:
          'A plain JSON array (compatible with the original service), ordered by (timestamp DESC, alert_id DESC). ' +
          'Page with `cursor` (keyset, stable under inserts) or `offset`. A full page carries `X-Next-Cursor` and a ' +
          '`Link: <...>; rel="next"` header; a shorter page is the last. No total count is computed.',
        parameters: [
          {
            name: 'limit',
            in: 'query',
            description: `Rows per page, 1..${MAX_LIMIT}. "Limit must be an integer." / "Limit must be a positive integer." on bad input.`,
            schema: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT },
          },
          {
            name: 'offset',
            in: 'query',
            description: `Rows to skip, 0..${MAX_OFFSET} (after the cursor position when both are given).`,
            schema: { type: 'integer', minimum: 0, maximum: MAX_OFFSET, default: 0 },
          },
          {
            name: 'cursor',
            in: 'query',
            description: 'Opaque position from a previous X-Next-Cursor header.',
            schema: { type: 'string' },
          },
          ...filterParameters,
        ],
        responses: {
          '200': {
            description: 'The page of alerts.',
            headers: {
              'X-Next-Cursor': { description: 'cursor of the next page (only on a full page)', schema: { type: 'string' } },
              Link: { description: 'RFC 8288 link to the next page, rel="next"', schema: { type: 'string' } },
            },
            content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Alert' } } } },
          },
          '400': problemResponse('Bad query parameter: AF_INVALID_LIMIT, AF_INVALID_OFFSET, AF_INVALID_CURSOR or AF_INVALID_PARAMETER.'),
          '503': problemResponse('The database is unavailable (AF_DATABASE_UNAVAILABLE).'),
        },
      },
    },
    '/alerts/stats': {
      get: {
        tags: ['alerts'],
        operationId: 'alertStats',
        summary: 'Counts by severity, status and rule, and a timeline',
        description: `Same filters as the list. The window is [since, until), default the last 24 hours; at most ${MAX_TIMELINE_BUCKETS} buckets. The timeline lists every bucket of the window, empty ones included.`,
        parameters: [
          ...filterParameters,
          { name: 'bucket', in: 'query', schema: { type: 'string', enum: ['minute', 'hour', 'day'], default: 'hour' } },
        ],
        responses: {
          '200': {
            description: 'The statistics.',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/AlertStats' } } },
          },
          '400': problemResponse('Bad query parameter (AF_INVALID_PARAMETER).'),
          '503': problemResponse('The database is unavailable.'),
        },
      },
    },
    '/alerts/stream': {
      get: {
        tags: ['alerts'],
        operationId: 'streamAlerts',
        summary: 'Server-Sent Events of new and changed alerts',
        description:
          'Events `alert.created` and `alert.updated` with `data:` the alert row JSON and a monotonically increasing `id:`. ' +
          'Changes made through any replica arrive (PostgreSQL LISTEN/NOTIFY). A `: keep-alive` comment is sent every 15 s. ' +
          'Events are not replayed after a reconnect: re-read GET /alerts.',
        responses: {
          '200': { description: 'The event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } },
          '503': problemResponse('Too many stream clients or the database is unavailable.'),
        },
      },
    },
    '/alerts/{id}': {
      parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } }],
      get: {
        tags: ['alerts'],
        operationId: 'getAlert',
        summary: 'One alert with its status history',
        responses: {
          '200': {
            description: 'The alert.',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/AlertWithHistory' } } },
          },
          '400': problemResponse('The id is not a UUID (AF_INVALID_ALERT_ID).'),
          '404': problemResponse('No such alert (AF_ALERT_NOT_FOUND).'),
          '503': problemResponse('The database is unavailable.'),
        },
      },
      patch: {
        tags: ['alerts'],
        operationId: 'changeAlertStatus',
        summary: 'Acknowledge, resolve or reopen an alert',
        description:
          'Writes the status and a history row in one transaction and emits `alert.updated`. Setting the status it already has with the same note changes nothing.',
        security: [{ bearer: [] }],
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/StatusChange' } } },
        },
        responses: {
          '200': { description: 'The updated alert.', content: { 'application/json': { schema: { $ref: '#/components/schemas/Alert' } } } },
          '400': problemResponse('The id is not a UUID, or the body is invalid (AF_INVALID_BODY, AF_VALIDATION_FAILED).'),
          '401': problemResponse('No valid bearer token (AF_UNAUTHORIZED).'),
          '404': problemResponse('No such alert.'),
          '415': problemResponse('The body is not application/json.'),
          '503': problemResponse('The database is unavailable.'),
        },
      },
    },
    '/openapi.json': {
      get: {
        tags: ['operations'],
        operationId: 'openApi',
        summary: 'This document',
        responses: { '200': { description: 'OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    '/healthz': {
      get: {
        tags: ['operations'],
        operationId: 'liveness',
        summary: 'Liveness: the event loop runs; checks no dependency',
        responses: { '200': { description: '{"status":"ok"}', content: { 'application/json': { schema: { type: 'object' } } } } },
      },
    },
    '/readyz': {
      get: {
        tags: ['operations'],
        operationId: 'readiness',
        summary: 'Readiness: PostgreSQL SELECT 1 and the broker answer now, and the process is not draining',
        responses: {
          '200': { description: '{"status":"ready","checks":{...}}', content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } } },
          '503': { description: '{"status":"not_ready","checks":{...}}', content: { 'application/json': { schema: { $ref: '#/components/schemas/Readiness' } } } },
        },
      },
    },
    '/metrics': {
      get: {
        tags: ['operations'],
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        responses: { '200': { description: 'text/plain; version=0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: {
        type: 'http',
        scheme: 'bearer',
        description: 'One of API_TOKENS / API_TOKENS_FILE. None is built in: with none configured every PATCH gets 401.',
      },
    },
    schemas: {
      ...deliverySchemas,
      Alert: { type: 'object', required: Object.keys(alertProperties), properties: alertProperties },
      AlertWithHistory: {
        allOf: [
          { $ref: '#/components/schemas/Alert' },
          {
            type: 'object',
            required: ['history'],
            properties: { history: { type: 'array', items: { $ref: '#/components/schemas/StatusHistoryEntry' } } },
          },
        ],
      },
      StatusHistoryEntry: {
        type: 'object',
        required: ['from_status', 'to_status', 'actor', 'note', 'at'],
        properties: {
          from_status: { type: 'string', enum: ALERT_STATUSES },
          to_status: { type: 'string', enum: ALERT_STATUSES },
          actor: { type: 'string' },
          note: nullableString,
          at: { type: 'string', format: 'date-time' },
        },
      },
      StatusChange: {
        type: 'object',
        required: ['status'],
        additionalProperties: false,
        properties: {
          status: { type: 'string', enum: ALERT_STATUSES },
          note: { type: 'string', maxLength: MAX_NOTE },
          actor: { type: 'string', minLength: 1, maxLength: MAX_ACTOR, description: 'who made the change; default "api"' },
        },
      },
      AlertStats: {
        type: 'object',
        required: ['total', 'by_severity', 'by_status', 'by_rule', 'timeline'],
        properties: {
          total: { type: 'integer' },
          by_severity: { type: 'object', additionalProperties: { type: 'integer' } },
          by_status: { type: 'object', additionalProperties: { type: 'integer' } },
          by_rule: {
            type: 'array',
            items: {
              type: 'object',
              properties: { rule_id: nullableString, rule_name: nullableString, count: { type: 'integer' } },
            },
          },
          timeline: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                bucket: { type: 'string', format: 'date-time' },
                counts: { type: 'object', additionalProperties: { type: 'integer' } },
              },
            },
          },
        },
      },
      Readiness: {
        type: 'object',
        properties: {
          status: { type: 'string', enum: ['ready', 'not_ready'] },
          draining: { type: 'boolean' },
          checks: { type: 'object', additionalProperties: { type: 'object' } },
        },
      },
      Problem: {
        type: 'object',
        required: ['type', 'title', 'status', 'code'],
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          code: { type: 'string', description: 'stable machine-readable error code' },
          detail: { type: 'string' },
          errors: {},
        },
      },
    },
  },
} as const;
