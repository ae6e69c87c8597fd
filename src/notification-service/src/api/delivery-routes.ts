import { AlertIdParamsSchema, DeliverySchema } from '@auditflow/common/contracts';
import type { FastifyInstance } from 'fastify';
import type { AlertStore } from '../store/alert-store.ts';
import { AlertNotFoundError } from '@auditflow/common/platform';

const JSON_TYPE = 'application/json; charset=utf-8';

/** `GET /alerts/{id}/deliveries`: which outputs were (or will be) told about an alert, and how it went. */
export function registerDeliveryRoutes(app: FastifyInstance, deps: { store: AlertStore }): void {
  app.addSchema(DeliverySchema);
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
          200: { type: 'object', required: ['deliveries'], properties: { deliveries: { type: 'array', items: { $ref: 'Delivery' } } } },
          400: { description: 'The id is not a UUID (AF_INVALID_ALERT_ID).', $ref: 'Problem' },
          404: { description: 'No such alert (AF_ALERT_NOT_FOUND).', $ref: 'Problem' },
        },
      },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id.toLowerCase();
      const [deliveries, alert] = await Promise.all([deps.store.outbox.listForAlert(id), deps.store.getAlert(id)]);
      if (alert === undefined) throw new AlertNotFoundError(id);
      return reply.type(JSON_TYPE).send(`{"deliveries":[${deliveries.join(',')}]}`);
    },
  );
}
