import {
  AfDecisionNotFoundError,
  AfDecisionNotUndoableError,
  AfResponseLapiFailedError,
  AlertNotFoundError,
  jsonBodyRoute,
  type Logger,
} from '@auditflow/common';
import { AlertIdParamsSchema, AlertResponseSchema, DecisionParamsSchema, ResponseDecisionSchema, ResponseEventSchema, type UndoDecision, UndoDecisionSchema } from '@auditflow/common/contracts';
import type { FastifyInstance } from 'fastify';
import type { NotificationMetrics } from '../metrics.ts';
import type { SenderSet } from '../delivery/outputs/senders.ts';
import type { AlertStore } from '../store/alert-store.ts';

const JSON_TYPE = 'application/json; charset=utf-8';
const problemRef = (description: string) => ({ description, $ref: 'Problem' });

export interface ResponseRoutesDeps {
  store: AlertStore;
  /** The configured outputs' senders; undefined without an outputs file. */
  senders: SenderSet | undefined;
  metrics: NotificationMetrics;
  logger: Logger;
}

/** The response decisions of an alert and their undo (docs/api.md, docs/outputs.md). */
export function registerResponseRoutes(app: FastifyInstance, deps: ResponseRoutesDeps): void {
  app.addSchema(ResponseDecisionSchema);
  app.addSchema(ResponseEventSchema);
  app.addSchema(AlertResponseSchema);

  app.get(
    '/alerts/:id/response',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['alerts'],
        operationId: 'getAlertResponse',
        summary: 'The response decisions (crowdsec outputs) of an alert and their history, oldest first',
        params: AlertIdParamsSchema,
        response: {
          200: { $ref: 'AlertResponse' },
          400: problemRef('The id is not a UUID (AF_INVALID_ALERT_ID).'),
          404: problemRef('No such alert (AF_ALERT_NOT_FOUND).'),
        },
      },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id.toLowerCase();
      const [body, alert] = await Promise.all([deps.store.response.listForAlert(id), deps.store.getAlert(id)]);
      if (alert === undefined) throw new AlertNotFoundError(id);
      return reply.type(JSON_TYPE).send(body);
    },
  );

  app.post(
    '/alerts/:id/response/:decision_id/undo',
    {
      config: { scope: 'admin' },
      ...jsonBodyRoute(),
      schema: {
        tags: ['alerts'],
        operationId: 'undoResponseDecision',
        summary: 'Undo a decision: delete it from the CrowdSec Local API (when pushed) and mark it undone',
        params: DecisionParamsSchema,
        body: UndoDecisionSchema,
        response: {
          200: { $ref: 'ResponseDecision' },
          400: problemRef('An id is not a UUID (AF_INVALID_ALERT_ID, AF_INVALID_DECISION_ID) or the body is invalid (AF_INVALID_BODY).'),
          404: problemRef('The alert has no such decision (AF_DECISION_NOT_FOUND).'),
          409: problemRef('The decision was skipped: nothing to undo (AF_DECISION_NOT_UNDOABLE).'),
          502: problemRef('The Local API did not take the delete; nothing changed (AF_RESPONSE_LAPI_FAILED).'),
        },
      },
    },
    async (request, reply) => {
      const params = request.params as { id: string; decision_id: string };
      const alertId = params.id.toLowerCase();
      const decisionId = params.decision_id.toLowerCase();
      const body = (request.body ?? {}) as UndoDecision;
      const actor = body.actor ?? request.apiToken?.name ?? 'api';
      const decision = await deps.store.response.get(alertId, decisionId);
      if (decision === undefined) throw new AfDecisionNotFoundError(decisionId);
      // Undoing twice is not an error: the answer is the decision as it is.
      if (decision.state === 'undone') return reply.type(JSON_TYPE).send(decision);
      if (decision.state === 'skipped') throw new AfDecisionNotUndoableError(decision.state);
      if (decision.state === 'pushed') {
        const lapi = deps.senders?.responder(decision.output)?.lapi;
        if (lapi === undefined) throw new AfResponseLapiFailedError(`output "${decision.output}" is not configured in enforce mode any more; delete the decision with cscli`);
        try {
          for (const id of decision.lapi_decision_ids ?? []) await lapi.deleteDecision(id, AbortSignal.timeout(30_000));
        } catch (error) {
          throw new AfResponseLapiFailedError((error as Error).message, { cause: error });
        }
      }
      const what = decision.state === 'pushed' ? 'deleted from the Local API' : decision.state === 'pending' ? 'withdrawn before its push' : 'dry-run record withdrawn';
      const undone = await deps.store.response.markUndone(decision, actor, body.note ? `${what}: ${body.note}` : what);
      // A concurrent undo or push changed it meanwhile: answer what it is now.
      const now = undone ?? (await deps.store.response.get(alertId, decisionId)) ?? decision;
      if (undone !== undefined) {
        deps.metrics.responseDecisions.inc({ output: decision.output, mode: decision.mode, outcome: 'undone' });
        deps.logger.info({ alert_id: alertId, decision_id: decisionId, address: decision.address, actor, output: decision.output }, 'response decision undone');
      }
      return reply.type(JSON_TYPE).send(now);
    },
  );
}
