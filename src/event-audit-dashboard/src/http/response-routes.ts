import { ANY_UUID, AfDecisionNotFoundError, AfInvalidAlertIdError, AfInvalidDecisionIdError } from '@auditflow/common';
import { MAX_NOTE } from '@auditflow/common/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { ResponseApi } from '../backend/response-api.ts';
import { ActionsDisabledError } from '../errors.ts';
import { ACTOR } from './api-routes.ts';
import type { ClientAddressResolver } from './client-address.ts';
import { assertSameOriginJson } from './csrf.ts';
import { isAlertId } from './filters.ts';

export interface ResponseRouteOptions {
  response: ResponseApi;
  addresses: ClientAddressResolver;
  apiToken: string | undefined;
  logger: Logger;
}

/** A dashboard user's address is reported again after this long (the service keeps it longer). */
const REPORT_EVERY_MS = 60_000;
const MAX_REMEMBERED = 1024;

/**
 * The response decisions on the alert page: their JSON, the undo (same-origin JSON like every
 * dashboard action; the token stays on this server), and the report of every user's address
 * to the notification service, so a crowdsec output never bans the people using the dashboard.
 */
export function registerResponseRoutes(app: FastifyInstance, options: ResponseRouteOptions): void {
  const { response, apiToken, logger } = options;
  const csrf = { onRequest: async (request: FastifyRequest) => assertSameOriginJson(request) };
  const reported = new Map<string, number>();

  if (apiToken !== undefined) {
    // Before the page or action is served, so the address is known before anything the user does.
    app.addHook('onRequest', async (request) => {
      if (request.method !== 'GET' && request.method !== 'POST') return;
      if (request.url.startsWith('/assets/') || request.url === '/healthz' || request.url === '/readyz' || request.url === '/metrics') return;
      const address = options.addresses.resolve(request);
      if (address === undefined) return;
      const now = Date.now();
      if ((reported.get(address) ?? 0) > now - REPORT_EVERY_MS) return;
      if (reported.size >= MAX_REMEMBERED) reported.clear();
      reported.set(address, now);
      try {
        await response.reportOperator(address, ACTOR, apiToken);
      } catch (error) {
        reported.delete(address);
        logger.warn({ err: error, address }, 'could not report the dashboard user address to the notification service');
      }
    });
  }

  app.get<{ Params: { id: string } }>('/api/alerts/:id/response', async (request) => {
    return response.forAlert(alertId(request.params.id));
  });

  app.post<{ Params: { id: string; decision: string } }>('/api/alerts/:id/response/:decision/undo', csrf, async (request) => {
    const id = alertId(request.params.id);
    const decision = request.params.decision;
    if (!ANY_UUID.test(decision)) throw new AfInvalidDecisionIdError(`'${decision}' is not a UUID`);
    if (apiToken === undefined) throw new ActionsDisabledError();
    const body = (request.body ?? {}) as Record<string, unknown>;
    const note = typeof body['note'] === 'string' && body['note'].trim() !== '' ? body['note'].trim().slice(0, MAX_NOTE) : undefined;
    const who = options.addresses.resolve(request);
    const undone = await response.undo(id, decision.toLowerCase(), who ? `${ACTOR} user at ${who}` : ACTOR, note, apiToken);
    if (undone === undefined) throw new AfDecisionNotFoundError(decision);
    return undone;
  });
}

function alertId(value: string): string {
  if (!isAlertId(value)) throw new AfInvalidAlertIdError(value);
  return value.toLowerCase();
}
