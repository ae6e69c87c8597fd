import { AuditFlowError } from '@auditflow/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GeneratorClient } from '../backend/generator-client.ts';
import { assertSameOriginJson } from './csrf.ts';

/**
 * The dashboard's side of the demo-stream switch: GET /api/generator (status)
 * and POST /api/generator/pause|resume, which the server forwards with its own
 * GENERATOR_CONTROL_TOKEN (same-origin JSON only, like every other change).
 */
export function registerGeneratorRoutes(app: FastifyInstance, generator: GeneratorClient | undefined): void {
  app.get('/api/generator', async (_request, reply) => {
    const status = generator ? await generator.status() : undefined;
    if (status === undefined) return reply.status(404).send({ available: false });
    return { available: true, controllable: generator!.canControl, ...status };
  });
  const csrf = { onRequest: async (request: FastifyRequest) => assertSameOriginJson(request) };
  for (const action of ['pause', 'resume'] as const) {
    app.post(`/api/generator/${action}`, csrf, async () => {
      if (!generator?.canControl) {
        throw new AuditFlowError('AF_ACTIONS_DISABLED', 'the demo stream cannot be controlled: GENERATOR_URL and GENERATOR_CONTROL_TOKEN are not configured', {
          statusCode: 503,
        });
      }
      return generator.set(action);
    });
  }
}
