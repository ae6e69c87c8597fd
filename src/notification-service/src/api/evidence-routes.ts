import { isIP } from 'node:net';
import {
  type Activity,
  type ActivityQuery,
  ActivityQuerySchema,
  ActivitySchema,
  AlertIdParamsSchema,
  type AlertEvidence,
  AlertEvidenceSchema,
  type EvidenceEventRow,
  ProblemSchema,
} from '@auditflow/common';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AlertStore, StoredEvidence } from '../store/alert-store.ts';
import { parseInstantParam } from './alert-query.ts';
import { AlertNotFoundError, BadRequestError } from './api-errors.ts';

const DAY_MS = 86_400_000;
const problemRef = (description: string) => ({ description, ...Type.Ref(ProblemSchema) });

interface StoredShape {
  total?: number;
  first?: EvidenceEventRow[];
  last?: EvidenceEventRow[];
}

const byTime = (a: EvidenceEventRow, b: EvidenceEventRow) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0);

/** The one event every alert has: the raw event of its latest version, as an evidence summary. */
function summaryOfRaw(raw: Record<string, unknown>): EvidenceEventRow | undefined {
  if (typeof raw['event_id'] !== 'string' || typeof raw['timestamp'] !== 'string') return undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const details = (raw['details'] ?? {}) as Record<string, unknown>;
  const source = (raw['source'] ?? {}) as Record<string, unknown>;
  const entries = {
    event_id: raw['event_id'],
    timestamp: raw['timestamp'],
    event_type: text(raw['event_type']),
    user_id: text(raw['user_id']),
    server_hostname: text(raw['server_hostname']),
    action_result: text(raw['action_result']),
    severity: text(raw['severity']),
    ip_address: text(details['ip_address']) ?? text(raw['client_ip']),
    resource: text(details['resource']) ?? text(raw['resource']),
    origin: text(source['kind']),
  };
  return Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as EvidenceEventRow;
}

/** Earliest and latest events, oldest first, without repeats; the triggering event is always among them. */
export function evidenceEvents(stored: { evidence: string | null; raw: string }): { events: EvidenceEventRow[]; complete: boolean; earliest: number } {
  const parsed = stored.evidence === null ? undefined : (JSON.parse(stored.evidence) as StoredShape);
  const events = new Map<string, EvidenceEventRow>();
  for (const event of [...(parsed?.first ?? []), ...(parsed?.last ?? [])]) events.set(event.event_id, event);
  const trigger = summaryOfRaw(JSON.parse(stored.raw) as Record<string, unknown>);
  if (trigger && !events.has(trigger.event_id)) events.set(trigger.event_id, trigger);
  const sorted = [...events.values()].sort(byTime);
  const lastFirst = (parsed?.first ?? []).map((event) => event.timestamp).sort().at(-1) ?? '';
  return { events: sorted, complete: parsed !== undefined, earliest: sorted.filter((event) => event.timestamp <= lastFirst).length };
}

export function toAlertEvidence(alertId: string, stored: StoredEvidence): AlertEvidence {
  const { events, complete, earliest } = evidenceEvents(stored);
  return {
    alert_id: alertId,
    origin: stored.origin,
    total: stored.count,
    events,
    earliest,
    omitted: Math.max(0, stored.count - events.length),
    complete,
  };
}

/**
 * GET /alerts/{id}/evidence (the events that made an alert) and GET /activity
 * (everything AuditFlow saw from one host, user or address in a time range:
 * the alerts and their evidence events). Both read what the alert store holds;
 * nothing is fetched from elsewhere.
 */
export function registerEvidenceRoutes(app: FastifyInstance, deps: { store: AlertStore; now: () => Date }): void {
  const { store } = deps;
  app.get<{ Params: { id: string } }>(
    '/alerts/:id/evidence',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['alerts'],
        operationId: 'getAlertEvidence',
        summary: 'The events that made an alert',
        description:
          'The earliest and the latest events folded into the alert (bounded by the producer), oldest first, with the total they stand for. ' +
          'An alert whose producer attached no evidence (the original analysis) shows its triggering event and `complete: false`.',
        params: AlertIdParamsSchema,
        response: {
          200: Type.Ref(AlertEvidenceSchema),
          400: problemRef('The id is not a UUID (AF_INVALID_ALERT_ID).'),
          404: problemRef('No such alert (AF_ALERT_NOT_FOUND).'),
          503: problemRef('The database is unavailable (AF_DATABASE_UNAVAILABLE).'),
        },
      },
    },
    async (request) => {
      const id = request.params.id.toLowerCase();
      const stored = await store.getEvidence(id);
      if (stored === undefined) throw new AlertNotFoundError(id);
      return toAlertEvidence(id, stored);
    },
  );

  app.get<{ Querystring: ActivityQuery }>(
    '/activity',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['alerts'],
        operationId: 'getActivity',
        summary: 'Everything seen from one host, user or address in a time range',
        description:
          'Alerts whose host (`host`), user (`user`) or source address (`address`) is the one asked for and whose episode overlaps [since, until), newest first, ' +
          'plus the evidence events of those alerts that involve it, oldest first. At least one of host, user, address is required; several must all hold.',
        querystring: ActivityQuerySchema,
        response: { 200: Type.Ref(ActivitySchema), 400: problemRef('A bad parameter or window (AF_INVALID_PARAMETER).'), 503: problemRef('The database is unavailable.') },
      },
    },
    async (request, reply) => {
      const query = request.query;
      if (query.host === undefined && query.user === undefined && query.address === undefined) {
        throw invalid('host', 'one of host, user or address is required');
      }
      if (query.address !== undefined && isIP(query.address) === 0) throw invalid('address', 'is not an IP address');
      const until = parseInstantParam(query.until, 'until') ?? deps.now();
      const since = parseInstantParam(query.since, 'since') ?? new Date(until.getTime() - DAY_MS);
      if (since.getTime() >= until.getTime()) throw invalid('since', 'must be before until');
      const rows = await store.activity({
        ...(query.host === undefined ? {} : { host: query.host }),
        ...(query.user === undefined ? {} : { user: query.user }),
        ...(query.address === undefined ? {} : { address: query.address }),
        since,
        until,
        limit: query.limit ?? 100,
      });
      const events = new Map<string, EvidenceEventRow>();
      for (const row of rows) {
        for (const event of evidenceEvents(row).events) {
          const involved =
            (query.host === undefined || event.server_hostname === query.host) &&
            (query.user === undefined || event.user_id === query.user) &&
            (query.address === undefined || event.ip_address === query.address);
          if (involved) events.set(event.event_id, event);
        }
      }
      // Rows are stored JSON text: written into the body as they are, like GET /alerts does.
      const body: Omit<Activity, 'alerts'> = { since: since.toISOString(), until: until.toISOString(), events: [...events.values()].sort(byTime) };
      const text = `${JSON.stringify(body).slice(0, -1)},"alerts":[${rows.map((row) => row.json).join(',')}]}`;
      return reply.type('application/json; charset=utf-8').send(text);
    },
  );
}

function invalid(name: string, problem: string): BadRequestError {
  return new BadRequestError('AF_INVALID_PARAMETER', `${name} ${problem}`, [{ path: `/${name}`, message: problem }]);
}
