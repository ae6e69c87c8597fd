import { AlertNotFoundError, AuditFlowError, createError, errorMessage, linearRegexProblem, ValidationError } from '@auditflow/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AlertRow, NotificationClient } from '../backend/notification-client.ts';
import type { Matcher, NewSilence, SilenceState, TriageApi } from '../backend/triage-api.ts';
import { ActionsDisabledError } from '../errors.ts';
import { PAGE_HEADERS } from '../views/layout.ts';
import { silencesPage } from '../views/silences-page.ts';
import { messagePage } from '../views/states.ts';
import { ACTOR, actorOf } from './api-routes.ts';
import type { AssetBundle } from './assets.ts';
import { assertSameOriginJson } from './csrf.ts';
import { type AlertStatus, isAlertId, STATUSES } from './filters.ts';

export interface TriageRouteOptions {
  client: NotificationClient;
  triage: TriageApi;
  assets: AssetBundle;
  apiToken: string | undefined;
  logger: Logger;
}

/** At most this many alerts change status in one bulk request, this many at a time upstream. */
export const BULK_LIMIT = 200;
const BULK_CONCURRENCY = 8;
const SilenceNotFoundError = createError<[id: string]>('AF_SILENCE_NOT_FOUND');
const STATES: SilenceState[] = ['active', 'pending', 'expired', 'all'];
const MATCHER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/**
 * Triage routes: bulk status changes, silences (page and JSON) and the
 * deliveries of an alert. Everything goes through this server, which holds
 * the notification API token; the browser never sees it.
 */
export function registerTriageRoutes(app: FastifyInstance, options: TriageRouteOptions): void {
  const { client, triage, assets } = options;
  const csrf = { onRequest: async (request: FastifyRequest) => assertSameOriginJson(request) };
  const token = (): string => {
    if (options.apiToken === undefined) throw new ActionsDisabledError();
    return options.apiToken;
  };
  const send = (reply: FastifyReply, status: number, body: string) =>
    reply.status(status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(body);
  const actionsEnabled = options.apiToken !== undefined;

  app.post('/api/alerts/status', csrf, async (request) => {
    const change = bulkChange(request.body);
    const auth = token();
    const actor = actorOf(request);
    const results: { id: string; ok: boolean; status?: unknown; error?: string }[] = [];
    const queue = [...change.ids];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          const body = { status: change.status, actor, ...(change.note ? { note: change.note } : {}) };
          const updated = await client.changeStatus(id, body, auth);
          results.push(updated === undefined ? { id, ok: false, error: 'not found' } : { id, ok: true, status: updated['status'] });
        } catch (error) {
          results.push({ id, ok: false, error: error instanceof AuditFlowError ? error.message : errorMessage(error) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(BULK_CONCURRENCY, change.ids.length) }, worker));
    const order = new Map(change.ids.map((id, i) => [id, i]));
    results.sort((a, b) => (order.get(a.id) ?? 0) - (order.get(b.id) ?? 0));
    return { changed: results.filter((r) => r.ok).length, failed: results.filter((r) => !r.ok).length, results };
  });

  app.get<{ Params: { id: string } }>('/api/alerts/:id/deliveries', async (request) => {
    const id = alertId(request.params.id);
    const deliveries = await triage.deliveries(id);
    if (deliveries === undefined) throw new AlertNotFoundError(id);
    return { deliveries };
  });

  app.get('/api/silences', async (request) => {
    const state = silenceState((request.query as Record<string, unknown>)['state']);
    return { silences: await triage.listSilences(state) };
  });

  app.post('/api/silences', csrf, async (request, reply) => {
    // The silence is recorded under the logged-in person, whatever the body claims.
    const silence = { ...newSilence(request.body), created_by: actorOf(request) };
    const created = await triage.createSilence(silence, token());
    return reply.status(201).send(created);
  });

  app.post<{ Params: { id: string } }>('/api/silences/:id/expire', csrf, async (request) => {
    const id = silenceId(request.params.id);
    const expired = await triage.expireSilence(id, token());
    if (expired === undefined) throw new SilenceNotFoundError(id);
    options.logger.info({ silence: id, user: actorOf(request) }, 'silence expired');
    return expired;
  });

  const page = async (reply: FastifyReply, prefill: Parameters<typeof silencesPage>[0]['prefill'], highlight?: string) => {
    try {
      const silences = await triage.listSilences('all');
      return send(reply, 200, silencesPage({ assets, silences, prefill, actionsEnabled, highlight }));
    } catch (error) {
      if (!(error instanceof AuditFlowError)) throw error;
      options.logger.warn({ code: error.code, reason: error.message }, 'silences unavailable');
      const status = error.statusCode >= 500 ? error.statusCode : 502;
      return send(reply, status, silencesPage({ assets, silences: undefined, problem: `${error.message} (${error.code})`, prefill, actionsEnabled }));
    }
  };

  app.get('/silences', async (request, reply) => {
    const highlight = (request.query as Record<string, unknown>)['highlight'];
    return page(reply, undefined, typeof highlight === 'string' && isAlertId(highlight) ? highlight : undefined);
  });

  app.get('/silences/new', async (request, reply) => {
    const from = (request.query as Record<string, unknown>)['alert'];
    if (from === undefined) return page(reply, { matchers: [] });
    if (typeof from !== 'string' || !isAlertId(from)) {
      return send(
        reply,
        400,
        messagePage({
          assets,
          title: 'Invalid alert id',
          heading: 'That is not a valid alert id',
          message: 'A silence is prefilled from an alert given by its UUID. Check the link you followed.',
          links: [{ href: '/silences', label: 'Silences' }],
        }),
      );
    }
    let alert: AlertRow | undefined;
    try {
      alert = await client.getAlert(from.toLowerCase());
    } catch (error) {
      if (!(error instanceof AuditFlowError)) throw error;
      alert = undefined;
    }
    if (alert === undefined) return page(reply, { matchers: [] });
    return page(reply, { matchers: matchersFor(alert), alertId: from.toLowerCase(), alertName: String(alert['alert_name'] ?? '') });
  });
}

/** The matchers that silence "alerts like this one": same rule, host and user. */
export function matchersFor(alert: AlertRow): Matcher[] {
  const pairs: [string, unknown][] = [
    ['rule_id', alert['rule_id']],
    ['host', alert['server_hostname']],
    ['user', alert['actor_id']],
  ];
  return pairs
    .filter((pair): pair is [string, string] => typeof pair[1] === 'string' && pair[1] !== '')
    .map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }));
}

function alertId(value: string): string {
  if (!isAlertId(value)) throw new ValidationError('alert id must be a UUID', [{ param: 'id', problem: 'is malformed' }]);
  return value.toLowerCase();
}

function silenceId(value: string): string {
  if (!isAlertId(value)) throw new ValidationError('silence id must be a UUID', [{ param: 'id', problem: 'is malformed' }]);
  return value.toLowerCase();
}

function silenceState(value: unknown): SilenceState {
  if (value === undefined || value === '') return 'all';
  if (typeof value === 'string' && (STATES as string[]).includes(value)) return value as SilenceState;
  throw new ValidationError(`state must be one of ${STATES.join(', ')}`, [{ param: 'state', problem: 'is unknown' }]);
}

function object(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError(`the body must be a JSON object with ${what}`);
  return body as Record<string, unknown>;
}

function bulkChange(body: unknown): { ids: string[]; status: AlertStatus; note?: string } {
  const { ids, status, note } = object(body, 'ids and a status');
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > BULK_LIMIT || !ids.every((id) => typeof id === 'string' && isAlertId(id))) {
    throw new ValidationError(`ids must be a list of 1 to ${BULK_LIMIT} alert UUIDs`, [{ param: 'ids', problem: 'is malformed' }]);
  }
  if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) {
    throw new ValidationError(`status must be one of ${STATUSES.join(', ')}`, [{ param: 'status', problem: 'is unknown' }]);
  }
  if (note !== undefined && note !== null && (typeof note !== 'string' || note.length > 1000)) {
    throw new ValidationError('note must be text of at most 1000 characters', [{ param: 'note', problem: 'is too long' }]);
  }
  const trimmed = typeof note === 'string' ? note.trim() : '';
  const unique = [...new Set(ids.map((id: string) => id.toLowerCase()))];
  const known = status as AlertStatus;
  return trimmed === '' ? { ids: unique, status: known } : { ids: unique, status: known, note: trimmed };
}

const ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** Validates a new silence before it reaches the notification API (which validates again). */
export function newSilence(body: unknown): NewSilence {
  const input = object(body, 'matchers, a comment and ends_at');
  const problems: { param: string; problem: string }[] = [];
  const matchers: Matcher[] = [];
  if (!Array.isArray(input['matchers']) || input['matchers'].length === 0 || input['matchers'].length > 20) {
    problems.push({ param: 'matchers', problem: 'must be a list of 1 to 20 matchers' });
  } else {
    input['matchers'].forEach((raw: unknown, i: number) => {
      const m = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
      const { name, value } = m;
      if (typeof name !== 'string' || !MATCHER_NAME.test(name)) problems.push({ param: `matchers[${i}].name`, problem: 'must be a label name' });
      if (typeof value !== 'string' || value.trim() === '' || value.length > 512) {
        problems.push({ param: `matchers[${i}].value`, problem: 'must be 1 to 512 characters' });
      }
      if (m['isRegex'] !== undefined && typeof m['isRegex'] !== 'boolean') problems.push({ param: `matchers[${i}].isRegex`, problem: 'must be a boolean' });
      if (m['isEqual'] !== undefined && typeof m['isEqual'] !== 'boolean') problems.push({ param: `matchers[${i}].isEqual`, problem: 'must be a boolean' });
      if (m['isRegex'] === true && typeof value === 'string') {
        const invalid = linearRegexProblem(value);
        if (invalid !== undefined) problems.push({ param: `matchers[${i}].value`, problem: `is not a valid RE2 regular expression: ${invalid}` });
      }
      matchers.push({ name: String(name), value: String(value ?? '').trim(), isRegex: m['isRegex'] === true, isEqual: m['isEqual'] !== false });
    });
  }
  const comment = typeof input['comment'] === 'string' ? input['comment'].trim() : '';
  if (comment === '' || comment.length > 1000) problems.push({ param: 'comment', problem: 'must be 1 to 1000 characters' });
  const time = (name: 'ends_at' | 'starts_at', required: boolean): string | undefined => {
    const value = input[name];
    if (value === undefined || value === null || value === '') {
      if (required) problems.push({ param: name, problem: 'is required' });
      return undefined;
    }
    if (typeof value !== 'string' || !ZONED.test(value) || Number.isNaN(Date.parse(value))) {
      problems.push({ param: name, problem: 'must be an ISO-8601 date-time with a zone' });
      return undefined;
    }
    return new Date(Date.parse(value)).toISOString();
  };
  const endsAt = time('ends_at', true);
  const startsAt = time('starts_at', false);
  if (endsAt && Date.parse(endsAt) <= Math.max(Date.now(), startsAt ? Date.parse(startsAt) : 0)) {
    problems.push({ param: 'ends_at', problem: 'must be in the future and after starts_at' });
  }
  const author = typeof input['created_by'] === 'string' ? input['created_by'].trim() : '';
  if (author.length > 255) problems.push({ param: 'created_by', problem: 'must be at most 255 characters' });
  if (problems.length > 0) throw new ValidationError(problems.map((p) => `${p.param} ${p.problem}`).join('; '), problems);
  return {
    matchers,
    comment,
    ends_at: endsAt ?? '',
    ...(startsAt ? { starts_at: startsAt } : {}),
    created_by: author === '' ? ACTOR : author,
  };
}
