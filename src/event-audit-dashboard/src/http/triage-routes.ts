import { AuditFlowError, errorMessage, ValidationError, AfSilenceNotFoundError } from '@auditflow/common';
import {
  contractValidator,
  FieldErrors,
  isLabelName,
  LABEL_NAME_RULE,
  MAX_ACTOR,
  MAX_MATCHER_VALUE,
  MAX_MATCHERS,
  MAX_NOTE,
  MAX_SILENCE_COMMENT,
  NewSilenceSchema,
  SILENCE_STATES,
} from '@auditflow/common/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { AlertRow, NotificationClient } from '../backend/notification-client.ts';
import type { Matcher, NewSilence, SilenceState, TriageApi } from '../backend/triage-api.ts';
import { ActionsDisabledError } from '../errors.ts';
import { PAGE_HEADERS } from '../views/layout.ts';
import { silencesPage } from '../views/silences-page.ts';
import { messagePage } from '../views/states.ts';
import { ACTOR } from './api-routes.ts';
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
const SilenceNotFoundError = AfSilenceNotFoundError;
/** The notification API's own body contract: what passes the form checks below must pass it too. */
const isNewSilence = contractValidator(NewSilenceSchema);

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
    const results: { id: string; ok: boolean; status?: unknown; error?: string }[] = [];
    const queue = [...change.ids];
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        try {
          const body = { status: change.status, actor: ACTOR, ...(change.note ? { note: change.note } : {}) };
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
    return { deliveries: await triage.deliveries(id) };
  });

  app.get('/api/silences', async (request) => {
    const state = silenceState((request.query as Record<string, unknown>)['state']);
    return { silences: await triage.listSilences(state) };
  });

  app.post('/api/silences', csrf, async (request, reply) => {
    const silence = newSilence(request.body);
    const created = await triage.createSilence(silence, token());
    return reply.status(201).send(created);
  });

  app.post<{ Params: { id: string } }>('/api/silences/:id/expire', csrf, async (request) => {
    const id = silenceId(request.params.id);
    const expired = await triage.expireSilence(id, token());
    if (expired === undefined) throw new SilenceNotFoundError(id);
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

/** Group-key fields the fixed labels already stand for (`host`, `user`). */
const COVERED_GROUP_FIELDS = new Set(['server_hostname', 'user_id']);

/**
 * The matchers that silence "alerts like this one": same rule, host and user,
 * and the same value of every other group-key field (`details.ip_address`),
 * which the notification service offers as labels of the same name.
 */
export function matchersFor(alert: AlertRow): Matcher[] {
  const groupKey = alert['group_key'];
  const grouped = typeof groupKey === 'object' && groupKey !== null ? Object.entries(groupKey as Record<string, unknown>) : [];
  const pairs: [string, unknown][] = [
    ['rule_id', alert['rule_id']],
    ['host', alert['server_hostname']],
    ['user', alert['actor_id']],
    ...grouped.filter(([name]) => !COVERED_GROUP_FIELDS.has(name) && isLabelName(name)),
  ];
  return pairs
    .filter((pair): pair is [string, string] => typeof pair[1] === 'string' && pair[1] !== '')
    .map(([name, value]) => ({ name, value, isRegex: false, isEqual: true }));
}

function alertId(value: string): string {
  if (!isAlertId(value)) throw fieldError('alert id must be a UUID', 'id', 'is malformed');
  return value.toLowerCase();
}

function silenceId(value: string): string {
  if (!isAlertId(value)) throw fieldError('silence id must be a UUID', 'id', 'is malformed');
  return value.toLowerCase();
}

function silenceState(value: unknown): SilenceState {
  if (value === undefined || value === '') return 'all';
  if (typeof value === 'string' && (SILENCE_STATES as readonly string[]).includes(value)) return value as SilenceState;
  throw fieldError(`state must be one of ${SILENCE_STATES.join(', ')}`, 'state', 'is unknown');
}

function fieldError(detail: string, field: string, problem: string): ValidationError {
  const errors = new FieldErrors();
  errors.add(field, problem);
  return new ValidationError(detail, errors.errors);
}

function object(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ValidationError(`the body must be a JSON object with ${what}`);
  return body as Record<string, unknown>;
}

function bulkChange(body: unknown): { ids: string[]; status: AlertStatus; note?: string } {
  const { ids, status, note } = object(body, 'ids and a status');
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > BULK_LIMIT || !ids.every((id) => typeof id === 'string' && isAlertId(id))) {
    throw fieldError(`ids must be a list of 1 to ${BULK_LIMIT} alert UUIDs`, 'ids', 'is malformed');
  }
  if (typeof status !== 'string' || !(STATUSES as readonly string[]).includes(status)) {
    throw fieldError(`status must be one of ${STATUSES.join(', ')}`, 'status', 'is unknown');
  }
  if (note !== undefined && note !== null && (typeof note !== 'string' || note.length > MAX_NOTE)) {
    throw fieldError(`note must be text of at most ${MAX_NOTE} characters`, 'note', 'is too long');
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
  const problems = new FieldErrors();
  const matchers: Matcher[] = [];
  if (!Array.isArray(input['matchers']) || input['matchers'].length === 0 || input['matchers'].length > MAX_MATCHERS) {
    problems.add('matchers', `must be a list of 1 to ${MAX_MATCHERS} matchers`);
  } else {
    input['matchers'].forEach((raw: unknown, i: number) => {
      const m = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
      const { name, value } = m;
      if (typeof name !== 'string' || !isLabelName(name)) problems.add(`matchers[${i}].name`, `must be ${LABEL_NAME_RULE}`);
      if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_MATCHER_VALUE) {
        problems.add(`matchers[${i}].value`, `must be 1 to ${MAX_MATCHER_VALUE} characters`);
      }
      if (m['isRegex'] !== undefined && typeof m['isRegex'] !== 'boolean') problems.add(`matchers[${i}].isRegex`, 'must be a boolean');
      if (m['isEqual'] !== undefined && typeof m['isEqual'] !== 'boolean') problems.add(`matchers[${i}].isEqual`, 'must be a boolean');
      if (m['isRegex'] === true && typeof value === 'string') {
        try {
          new RegExp(value);
        } catch {
          problems.add(`matchers[${i}].value`, 'is not a valid regular expression');
        }
      }
      matchers.push({ name: String(name), value: String(value ?? '').trim(), isRegex: m['isRegex'] === true, isEqual: m['isEqual'] !== false });
    });
  }
  const comment = typeof input['comment'] === 'string' ? input['comment'].trim() : '';
  if (comment === '' || comment.length > MAX_SILENCE_COMMENT) problems.add('comment', `must be 1 to ${MAX_SILENCE_COMMENT} characters`);
  const time = (name: 'ends_at' | 'starts_at', required: boolean): string | undefined => {
    const value = input[name];
    if (value === undefined || value === null || value === '') {
      if (required) problems.add(name, 'is required');
      return undefined;
    }
    if (typeof value !== 'string' || !ZONED.test(value) || Number.isNaN(Date.parse(value))) {
      problems.add(name, 'must be an ISO-8601 date-time with a zone');
      return undefined;
    }
    return new Date(Date.parse(value)).toISOString();
  };
  const endsAt = time('ends_at', true);
  const startsAt = time('starts_at', false);
  if (endsAt && Date.parse(endsAt) <= Math.max(Date.now(), startsAt ? Date.parse(startsAt) : 0)) {
    problems.add('ends_at', 'must be in the future and after starts_at');
  }
  const author = typeof input['created_by'] === 'string' ? input['created_by'].trim() : '';
  if (author.length > MAX_ACTOR) problems.add('created_by', `must be at most ${MAX_ACTOR} characters`);
  if (problems.size > 0) throw new ValidationError(problems.summary, problems.errors);
  const silence: NewSilence = {
    matchers,
    comment,
    ends_at: endsAt ?? '',
    ...(startsAt ? { starts_at: startsAt } : {}),
    created_by: author === '' ? ACTOR : author,
  };
  if (!isNewSilence(silence)) throw new ValidationError(`invalid silence: ${isNewSilence.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, isNewSilence.errors);
  return silence;
}
