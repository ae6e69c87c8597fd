import { type Static, Type } from '@sinclair/typebox';

/** One notification of an alert to one output (`GET /alerts/{id}/deliveries`, docs/api.md). */
export const DELIVERY_OUTPUT_TYPES = ['alertmanager', 'webhook', 'slack', 'ntfy', 'smtp', 'crowdsec'] as const;
export const DELIVERY_STATUSES = ['pending', 'sent', 'failed', 'silenced'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

const NullableInstant = Type.Unsafe<string | null>({ type: ['string', 'null'], format: 'date-time' });

export const DeliverySchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    output: Type.String(),
    type: Type.Unsafe<(typeof DELIVERY_OUTPUT_TYPES)[number]>({ type: 'string', enum: [...DELIVERY_OUTPUT_TYPES] }),
    status: Type.Unsafe<DeliveryStatus>({ type: 'string', enum: [...DELIVERY_STATUSES] }),
    attempts: Type.Integer(),
    last_error: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
    next_attempt_at: NullableInstant,
    sent_at: NullableInstant,
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Delivery' },
);
export type Delivery = Static<typeof DeliverySchema>;
