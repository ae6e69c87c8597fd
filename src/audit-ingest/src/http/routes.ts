import { AuditFlowError, problem, sendProblem, AfValidationFailedError, AfBatchTooLargeError } from '@auditflow/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SourceKind, SourceMeta } from '../normalise/event-builder.ts';
import { dead, DEAD_LETTER_CODES, type Normalised, type Normaliser } from '../normalise/normaliser.ts';
import type { DeliveryReport, IngestPipeline } from '../pipeline.ts';
import { authenticateSender, type SenderAuth } from './auth.ts';

export interface IngestRouteDeps {
  normaliser: Normaliser;
  pipeline: IngestPipeline;
  auth: SenderAuth;
  maxBodyBytes: number;
  maxBatchEvents: number;
  retryAfterSeconds: number;
  transport: 'http' | 'https';
  onRejected: (reason: string) => void;
}

const LINE_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/json-seq', 'text/plain'];

/**
 * POST /k8s/audit: what the API server's audit webhook backend sends in batch
 *   mode (an `audit.k8s.io/v1` EventList as JSON), a single Event, or the
 *   audit log file format (one Event per line, `application/x-ndjson`).
 * POST /journald: journal entries as JSON lines (`journalctl -o json`,
 *   Vector, Fluent Bit) or a JSON array of them.
 *
 * Records that cannot be read are dead-lettered with the reason and named in
 * the answer; the rest are published. 200 answers only after the broker
 * confirmed every message; 429 or 503 with Retry-After otherwise, so the
 * sender resends the batch (event ids make a resend of audit events safe).
 */
export function registerIngestRoutes(app: FastifyInstance, deps: IngestRouteDeps): void {
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(LINE_TYPES, { parseAs: 'string', bodyLimit: deps.maxBodyBytes }, (_request, body, done) => done(null, body));

  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode === 429 || reply.statusCode === 503) reply.header('retry-after', String(deps.retryAfterSeconds));
    return payload;
  });

  const guard = async (request: FastifyRequest) => {
    try {
      authenticateSender(request, deps.auth);
    } catch (error) {
      deps.onRejected('unauthorized');
      // Who tried is what the operator needs (runbook AuditIngestUnauthorizedSenders).
      request.log.warn({ peer: request.ip, route: request.url }, 'audit sender refused: no valid token or client certificate');
      throw error;
    }
  };

  app.post('/k8s/audit', { bodyLimit: deps.maxBodyBytes, onRequest: guard }, async (request, reply) => {
    const meta = metaOf(request, 'k8s_audit', deps.transport);
    const items =
      typeof request.body === 'string'
        ? parseLines(request.body, meta, (value, line) => deps.normaliser.k8sAudit(value, line, meta))
        : k8sItems(request.body, meta, deps);
    return deliver(reply, 'k8s_audit', items, deps);
  });

  app.post('/journald', { bodyLimit: deps.maxBodyBytes, onRequest: guard }, async (request, reply) => {
    const meta = metaOf(request, 'journald', deps.transport);
    let items: Normalised[];
    if (typeof request.body === 'string') items = parseLines(request.body, meta, (value, line) => deps.normaliser.journald(value, line, meta));
    else {
      const entries = Array.isArray(request.body) ? request.body : [request.body];
      items = entries.map((entry) => deps.normaliser.journald(entry, JSON.stringify(entry) ?? '', meta));
    }
    return deliver(reply, 'journald', items, deps);
  });
}

function k8sItems(body: unknown, meta: SourceMeta, deps: IngestRouteDeps): Normalised[] {
  if (typeof body !== 'object' || body === null) {
    throw new AfValidationFailedError('body must be an audit.k8s.io/v1 EventList or Event');
  }
  const object = body as Record<string, unknown>;
  if (Array.isArray(body)) return body.map((event) => deps.normaliser.k8sAudit(event, undefined, meta));
  if (object['kind'] === 'EventList') {
    if (!Array.isArray(object['items'])) return [dead(DEAD_LETTER_CODES.k8s, 'EventList without an items array', JSON.stringify(body), meta)];
    return (object['items'] as unknown[]).map((event) => deps.normaliser.k8sAudit(event, undefined, meta));
  }
  return [deps.normaliser.k8sAudit(body, undefined, meta)];
}

/** One JSON value per line; a line that is not JSON is dead-lettered on its own. */
function parseLines(text: string, meta: SourceMeta, map: (value: unknown, line: string) => Normalised): Normalised[] {
  const items: Normalised[] = [];
  for (const raw of text.split('\n')) {
    // application/json-seq (RFC 7464) starts each record with RS (0x1e).
    const line = (raw.charCodeAt(0) === 0x1e ? raw.slice(1) : raw).trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      items.push(dead(DEAD_LETTER_CODES.json, `line is not JSON: ${(error as Error).message}`, line, meta));
      continue;
    }
    items.push(map(value, line));
  }
  return items;
}

async function deliver(reply: FastifyReply, source: SourceKind, items: Normalised[], deps: IngestRouteDeps) {
  if (items.length > deps.maxBatchEvents) {
    deps.onRejected('batch_too_large');
    throw new AfBatchTooLargeError(deps.maxBatchEvents, 'records', items.length);
  }
  try {
    await deps.pipeline.admit(items.length);
  } catch (error) {
    deps.onRejected(error instanceof AuditFlowError && error.statusCode === 429 ? 'overloaded' : 'broker_unavailable');
    throw error;
  }
  let report: DeliveryReport;
  try {
    report = await deps.pipeline.deliver(source, items);
  } catch (error) {
    deps.onRejected('broker_unavailable');
    throw error;
  }
  const body = { published: report.published, ignored: report.ignored, dead_lettered: report.deadLettered, errors: report.errors };
  if (items.length > 0 && report.deadLettered === items.length) {
    // Nothing was usable: the sender learns it (4xx, not retried), and the records are in the DLQ.
    const failure = problem(400, report.errors[0]?.code ?? AfValidationFailedError.code, `none of the ${items.length} records could be read; they were dead-lettered`);
    return sendProblem(reply, { ...failure, ...body } as typeof failure);
  }
  return reply.status(200).send(body);
}

function metaOf(request: FastifyRequest, kind: SourceKind, transport: 'http' | 'https'): SourceMeta {
  const socket = request.raw.socket;
  const address = socket.remoteAddress?.startsWith('::ffff:') ? socket.remoteAddress.slice(7) : socket.remoteAddress;
  return { kind, transport, peer: address ? (address.includes(':') ? `[${address}]:${socket.remotePort}` : `${address}:${socket.remotePort}`) : undefined };
}
