import { AfInvalidBodyError, jsonBodyRoute, type Logger } from '@auditflow/common';
import { type OperatorAddress, OperatorAddressSchema } from '@auditflow/common/contracts';
import type { FastifyInstance } from 'fastify';
import { canonicalAddress } from './address-allowlist.ts';
import type { ResponseStore } from './response-store.ts';

export interface OperatorAddressDeps {
  store: ResponseStore;
  logger: Logger;
  /** Rows older than the longest `operator_allow_for` of the crowdsec outputs are deleted. */
  forgetAfterMs: number | undefined;
}

/**
 * `POST /response/operator-addresses`: the dashboard reports the address its user works from,
 * so no crowdsec output bans them (docs/outputs.md). Only an authenticated caller (a token with
 * the ack scope: the dashboard's) is believed; the address is kept for the outputs'
 * `operator_allow_for` and then forgotten.
 */
export function registerOperatorAddressRoute(app: FastifyInstance, deps: OperatorAddressDeps): void {
  app.post(
    '/response/operator-addresses',
    {
      config: { scope: 'ack' },
      ...jsonBodyRoute(),
      schema: {
        tags: ['response'],
        operationId: 'recordOperatorAddress',
        summary: 'Record the address a dashboard user works from: crowdsec outputs never ban it',
        body: OperatorAddressSchema,
        response: {
          204: { type: 'null', description: 'Recorded (or no crowdsec output is configured: nothing to keep).' },
          400: { description: 'Not an IP address (AF_INVALID_BODY).', $ref: 'Problem' },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as OperatorAddress;
      const address = canonicalAddress(body.address);
      if (address === undefined) throw new AfInvalidBodyError('address: not an IP address');
      if (deps.forgetAfterMs !== undefined) {
        const seenBy = body.seen_by ?? request.apiToken?.name ?? 'api';
        await deps.store.recordOperator(address, seenBy, deps.forgetAfterMs);
        request.log.debug({ address, seen_by: seenBy }, 'dashboard user address recorded');
      }
      return reply.code(204).send();
    },
  );
}
