import type { FastifyInstance } from 'fastify';
import type { AlertStore } from '../store/alert-store.ts';
import { AlertNotFoundError, assertAlertId } from './api-errors.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

export const deliverySchema = {
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
export function registerDeliveryRoutes(app: FastifyInstance, deps: { store: AlertStore }): void {
  app.get(
    '/alerts/:id/deliveries',
    {
      config: { scope: 'read' },
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
        response: { 200: { type: 'object', properties: { deliveries: { type: 'array', items: deliverySchema } } } },
      },
    },
    async (request, reply) => {
      const id = assertAlertId((request.params as { id: string }).id);
      const [deliveries, alert] = await Promise.all([deps.store.outbox.listForAlert(id), deps.store.getAlert(id)]);
      if (alert === undefined) throw new AlertNotFoundError(id);
      return reply.type(JSON_TYPE).send(`{"deliveries":[${deliveries.join(',')}]}`);
    },
  );
}
