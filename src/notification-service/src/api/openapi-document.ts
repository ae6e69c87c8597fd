import { NOTIFICATION_API_SHARED_SCHEMAS } from '@auditflow/common';
import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { BearerAuth, TokenScope } from './bearer-auth.ts';

const problemResponse = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/**
 * Registers @fastify/swagger so GET /openapi.json is generated from the route
 * schemas. Call it before any route is added (createHttpServer's beforeRoutes):
 * it sees only routes added after it. Each operation's security requirement
 * comes from its `config.scope`, so the document says which scope it needs.
 */
export function registerOpenApi(app: FastifyInstance, auth: BearerAuth): void {
  for (const schema of NOTIFICATION_API_SHARED_SCHEMAS) app.addSchema(schema);
  app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'AuditFlow notification-service API',
        version: '1.0.0',
        description:
          'Stores the alerts raised by audit-log-analysis and serves them. Errors are RFC 9457 problem+json with a stable `code`. ' +
          'Timestamps are ISO-8601 UTC with microseconds and a `Z`. An unknown query parameter is a 400 (AF_UNKNOWN_PARAMETER); ' +
          'a parameter given twice is a 400; an empty value counts as absent.',
      },
      servers: [{ url: 'http://notification-service:8000' }],
      tags: [{ name: 'alerts' }, { name: 'exceptions' }, { name: 'operations' }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'A token from API_TOKENS / API_TOKENS_FILE. Each operation lists the scope it needs (read, ack or admin). ' +
              'None is built in: with none configured every scoped request that needs a token gets 401.',
          },
        },
      },
    },
    // Shared schemas keep their $id as their component name (#/components/schemas/Alert).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json['$id'] ?? `def-${i}`) },
    transform: ({ schema, url, route }) => {
      const scope = route.config?.scope as TokenScope | undefined;
      if (scope === undefined) return { schema, url };
      const open = auth.isOpen(scope);
      return {
        url,
        schema: {
          ...schema,
          // An empty requirement first: the operation also answers without a token.
          security: open ? [{}, { bearer: [scope] }] : [{ bearer: [scope] }],
          response: {
            ...(schema?.response as Record<string, unknown> | undefined),
            ...(open ? {} : { 401: problemResponse('No valid bearer token (AF_UNAUTHORIZED).') }),
            403: problemResponse(`The token lacks the '${scope}' scope (AF_FORBIDDEN).`),
          },
        },
      };
    },
  });
  let document: string | undefined;
  app.register(async (routes) => {
    routes.get('/openapi.json', { schema: { tags: ['operations'], summary: 'This OpenAPI 3.1 document' } }, async (_request, reply) => {
      document ??= JSON.stringify(app.swagger());
      return reply.type('application/json; charset=utf-8').send(document);
    });
  });
}
