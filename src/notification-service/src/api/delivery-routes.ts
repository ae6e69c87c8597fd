import { AlertIdParamsSchema } from '@auditflow/common';
import type { FastifyInstance } from 'fastify';
import type { AlertStore } from '../store/alert-store.ts';
import { AlertNotFoundError } from './api-errors.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

export const deliverySchema = {
  $id: 'Delivery',
  type: 'object',
  required: ['id', 'output', 'type', 'status', 'attempts', 'last_error', 'next_attempt_at', 'sent_at', 'created_at', 'updated_at'],
  properties: {
    id: { type: 'string', format: 'uuid' },
    output: { type: 'string' },
    type: { type: 'string', enum: ['alertmanager', 'webhook', 'slack', 'ntfy', 'smtp'] },
    status: { type: 'string', enum: ['pending', 'sent', 'failed', 'silenced'] },
    attempts: { type: 'integer' },
    last_error: { type: ['string', 'null'] },
    next_attempt_at: { type: ['string', 'null'], format: 'date-time' },
    sent_at: { type: ['string', 'null'], format: 'date-time' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
  },
} as const;

/** `GET /alerts/{id}/deliveries`: which outputs were (or will be) told about an alert, and how it went. */
export function registerDeliveryRoutes(app: FastifyInstance, deps: { store: AlertStore; outputsConfigured?: boolean; outputsLoadedAt?: Date }): void {
  app.addSchema(deliverySchema);
  app.get(
    '/alerts/:id/deliveries',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['alerts'],
        operationId: 'listAlertDeliveries',
        summary: 'The notifications of an alert: which outputs, when, with what result (oldest first)',
        params: AlertIdParamsSchema,
        response: {
          200: {
            type: 'object',
            required: ['deliveries'],
            properties: {
              deliveries: { type: 'array', items: { $ref: 'Delivery' } },
              outputs_configured: { type: 'boolean', description: 'whether this service runs with an outputs file (OUTPUTS_FILE)' },
              outputs_loaded_at: {
                type: 'string',
                format: 'date-time',
                description: 'when the outputs in effect were loaded: alerts stored (and not grown) before were routed by the configuration of that time',
              },
            },
          },
          400: { description: 'The id is not a UUID (AF_INVALID_ALERT_ID).', $ref: 'Problem' },
          404: { description: 'No such alert (AF_ALERT_NOT_FOUND).', $ref: 'Problem' },
        },
      },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id.toLowerCase();
      const [deliveries, alert] = await Promise.all([deps.store.outbox.listForAlert(id), deps.store.getAlert(id)]);
      if (alert === undefined) throw new AlertNotFoundError(id);
      // Lets a client tell "no route matched" from "no outputs at all" when the list is empty.
      let configured = deps.outputsConfigured === undefined ? '' : `,"outputs_configured":${deps.outputsConfigured}`;
      if (deps.outputsLoadedAt !== undefined) configured += `,"outputs_loaded_at":"${deps.outputsLoadedAt.toISOString()}"`;
      return reply.type(JSON_TYPE).send(`{"deliveries":[${deliveries.join(',')}]${configured}}`);
    },
  );
}
