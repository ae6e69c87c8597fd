import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';

/**
 * A small in-memory implementation of the documented notification API
 * contract (GET /alerts, /alerts/stats, /alerts/stream, /alerts/{id},
 * PATCH /alerts/{id}, /healthz). Used for routing tests that need exact
 * control over the backend's answers; the browser tests use the real service
 * when it is available.
 */
export interface FakeNotification {
  url: string;
  app: FastifyInstance;
  rows: Record<string, unknown>[];
  /** Requests seen, for asserting what the dashboard sent. */
  requests: { method: string; url: string; headers: Record<string, unknown>; body: unknown }[];
  /** Silences as the contract describes them (status computed when read). */
  silences: Record<string, unknown>[];
  /** Deliveries by alert id, for GET /alerts/{id}/deliveries. */
  deliveries: Map<string, Record<string, unknown>[]>;
  add(partial?: Record<string, unknown>): Record<string, unknown>;
  update(id: string, changes: Record<string, unknown>): void;
  streams(): number;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function makeAlert(partial: Record<string, unknown> = {}, at = new Date()): Record<string, unknown> {
  const iso = at.toISOString();
  return {
    alert_id: randomUUID(),
    correlation_id: randomUUID(),
    timestamp: iso,
    received_at: iso,
    alert_name: 'Multiple Failed Login Attempts',
    alert_type: 'SECURITY',
    severity: 'CRITICAL',
    description: "3 or more failed login attempts for user 'attacker_bob' on 'prod-db-02' within 60 seconds.",
    source_service_name: 'audit-event-generator',
    rule_id: 'ANLY-SEC-001',
    rule_name: 'Failed Login Burst Detection',
    actor_type: 'USER',
    actor_id: 'attacker_bob',
    client_ip: '192.168.1.142',
    resource_type: 'SERVER',
    resource_id: 'prod-db-02',
    server_hostname: 'prod-db-02',
    action_observed: 'LOGIN_FAILURE',
    analysis_rule_details: { rule_id: 'ANLY-SEC-001', rule_description: 'Detects 3 failed logins within 60 seconds.' },
    triggered_by_details: { actor_type: 'USER', actor_id: 'attacker_bob' },
    impacted_resource_details: { resource_type: 'SERVER', resource_id: 'prod-db-02' },
    metadata: {
      tags: ['brute-force', 'authentication'],
      environment: 'test',
      remediation_guidance: 'Check the account and the source addresses; consider a lockout.',
      playbook_url: 'https://example.com/playbooks/failed_login_burst',
    },
    raw_event_data: { event_id: randomUUID(), event_type: 'user_login', user_id: 'attacker_bob', details: { reason: 'Incorrect password' } },
    status: 'open',
    status_changed_at: null,
    status_changed_by: null,
    status_note: null,
    count: 3,
    first_seen: iso,
    last_seen: iso,
    fingerprint: 'f'.repeat(16),
    group_key: { user_id: 'attacker_bob', server_hostname: 'prod-db-02' },
    updated_at: iso,
    ...partial,
  };
}

/**
 * `legacy: true` answers 404 for the silences and deliveries routes, as a
 * notification-service from before them does.
 */
export async function startFakeNotification(options: { tokens?: string[]; port?: number; legacy?: boolean } = {}): Promise<FakeNotification> {
  const tokens = new Set(options.tokens ?? ['test-token']);
  const rows: Record<string, unknown>[] = [];
  const histories = new Map<string, Record<string, unknown>[]>();
  const clients = new Set<ServerResponse>();
  const requests: FakeNotification['requests'] = [];
  const silences: Record<string, unknown>[] = [];
  const deliveries = new Map<string, Record<string, unknown>[]>();
  let seq = 0;
  const app = Fastify({ forceCloseConnections: true });

  const broadcast = (event: string, row: Record<string, unknown>) => {
    seq += 1;
    for (const res of clients) res.write(`event: ${event}\nid: ${seq}\ndata: ${JSON.stringify(row)}\n\n`);
  };

  app.addHook('onRequest', async (request) => {
    requests.push({ method: request.method, url: request.url, headers: { ...request.headers }, body: undefined });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  const filtered = (q: Record<string, string | undefined>) => {
    const severities = q['severity'] ? q['severity'].split(',') : undefined;
    return rows
      .filter((r) => !severities || severities.includes(String(r['severity'])))
      .filter((r) => !q['status'] || r['status'] === q['status'])
      .filter((r) => !q['rule_id'] || r['rule_id'] === q['rule_id'])
      .filter((r) => !q['user'] || r['actor_id'] === q['user'])
      .filter((r) => !q['host'] || r['server_hostname'] === q['host'])
      .filter((r) => !q['since'] || String(r['timestamp']) >= q['since'])
      .filter((r) => !q['until'] || String(r['timestamp']) <= q['until'])
      .filter((r) => !q['q'] || `${r['alert_name']} ${r['description']}`.toLowerCase().includes(q['q'].toLowerCase()))
      .sort((a, b) => String(b['timestamp']).localeCompare(String(a['timestamp'])));
  };

  const silenceStatus = (s: Record<string, unknown>, now = Date.now()): string =>
    Date.parse(String(s['ends_at'])) <= now ? 'expired' : Date.parse(String(s['starts_at'])) > now ? 'pending' : 'active';
  const LABELS: Record<string, string> = { host: 'server_hostname', user: 'actor_id', source_service: 'source_service_name' };
  const matches = (row: Record<string, unknown>, m: Record<string, unknown>): boolean => {
    const name = String(m['name']);
    const value = String(row[LABELS[name] ?? name] ?? (row['metadata'] as Record<string, unknown> | null)?.[name] ?? '');
    const hit = m['isRegex'] ? new RegExp(`^(?:${String(m['value'])})$`).test(value) : value === m['value'];
    return m['isEqual'] === false ? !hit : hit;
  };
  /** The row with the contract's silenced/silenced_by fields. */
  const shown = (row: Record<string, unknown>): Record<string, unknown> => {
    const by = silences
      .filter((s) => silenceStatus(s) === 'active' && (s['matchers'] as Record<string, unknown>[]).every((m) => matches(row, m)))
      .map((s) => String(s['id']));
    return { ...row, silenced: by.length > 0, silenced_by: by };
  };
  const admin = (request: { headers: Record<string, unknown> }): boolean => {
    const auth = String(request.headers['authorization'] ?? '');
    return auth.startsWith('Bearer ') && tokens.has(auth.slice(7));
  };
  const unauthorized = { status: 401, code: 'AF_UNAUTHORIZED', detail: 'bad token' };

  if (!options.legacy) {
    app.get('/silences', async (request) => {
      const state = (request.query as Record<string, string | undefined>)['state'] ?? 'all';
      return silences.map((s) => ({ ...s, status: silenceStatus(s) })).filter((s) => state === 'all' || s.status === state);
    });
    app.post('/silences', async (request, reply) => {
      requests.at(-1)!.body = request.body;
      if (!admin(request)) return reply.status(401).type('application/problem+json').send(unauthorized);
      const body = request.body as Record<string, unknown>;
      const at = new Date().toISOString();
      const silence = {
        id: randomUUID(),
        matchers: body['matchers'],
        created_by: body['created_by'] ?? 'api',
        comment: body['comment'],
        starts_at: body['starts_at'] ?? at,
        ends_at: body['ends_at'],
        updated_at: at,
      };
      silences.push(silence);
      return reply.status(201).send({ ...silence, status: silenceStatus(silence) });
    });
    app.delete<{ Params: { id: string } }>('/silences/:id', async (request, reply) => {
      if (!admin(request)) return reply.status(401).type('application/problem+json').send(unauthorized);
      const silence = silences.find((s) => s['id'] === request.params.id);
      if (!silence) return reply.status(404).type('application/problem+json').send({ status: 404, code: 'AF_SILENCE_NOT_FOUND', detail: 'not found' });
      const at = new Date().toISOString();
      Object.assign(silence, { ends_at: at, updated_at: at });
      return { ...silence, status: 'expired' };
    });
    app.get<{ Params: { id: string } }>('/alerts/:id/deliveries', async (request, reply) => {
      if (!rows.some((r) => r['alert_id'] === request.params.id)) {
        return reply.status(404).type('application/problem+json').send({ status: 404, code: 'AF_ALERT_NOT_FOUND', detail: 'not found' });
      }
      return { deliveries: deliveries.get(request.params.id) ?? [] };
    });
  }

  app.get('/alerts', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const limit = Number(q['limit'] ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) {
      return reply.status(400).type('application/problem+json').send({ status: 400, code: 'AF_VALIDATION_FAILED', detail: 'limit must be 1..500' });
    }
    const start = q['cursor'] ? Number(Buffer.from(q['cursor'], 'base64url').toString()) : 0;
    const all = filtered(q);
    const page = all.slice(start, start + limit);
    if (start + limit < all.length) reply.header('x-next-cursor', Buffer.from(String(start + limit)).toString('base64url'));
    return page.map(shown);
  });

  app.get('/alerts/stats', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const all = filtered(q);
    const bySeverity: Record<string, number> = {};
    const byStatus: Record<string, number> = {};
    const byRule = new Map<string, { rule_id: string; rule_name: string; count: number }>();
    const timeline = new Map<string, Record<string, number>>();
    const width = q['bucket'] === 'minute' ? 16 : q['bucket'] === 'day' ? 10 : 13;
    for (const r of all) {
      const sev = String(r['severity']);
      bySeverity[sev] = (bySeverity[sev] ?? 0) + 1;
      byStatus[String(r['status'])] = (byStatus[String(r['status'])] ?? 0) + 1;
      const rule = byRule.get(String(r['rule_id'])) ?? { rule_id: String(r['rule_id']), rule_name: String(r['rule_name']), count: 0 };
      rule.count += 1;
      byRule.set(rule.rule_id, rule);
      const prefix = String(r['timestamp']).slice(0, width);
      const bucket = new Date(width === 16 ? `${prefix}:00Z` : width === 13 ? `${prefix}:00:00Z` : `${prefix}T00:00:00Z`).toISOString();
      const counts = timeline.get(bucket) ?? {};
      counts[sev] = (counts[sev] ?? 0) + 1;
      timeline.set(bucket, counts);
    }
    return {
      total: all.length,
      by_severity: bySeverity,
      by_status: byStatus,
      by_rule: [...byRule.values()],
      timeline: [...timeline].sort().map(([bucket, counts]) => ({ bucket, counts })),
    };
  });

  app.get('/alerts/stream', (request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    reply.raw.write(': hello\n\n');
    clients.add(reply.raw);
    request.raw.on('close', () => clients.delete(reply.raw));
  });

  app.get<{ Params: { id: string } }>('/alerts/:id', async (request, reply) => {
    if (!UUID.test(request.params.id)) {
      return reply.status(400).type('application/problem+json').send({ status: 400, code: 'AF_VALIDATION_FAILED', detail: 'Invalid alert ID format' });
    }
    const row = rows.find((r) => r['alert_id'] === request.params.id);
    if (!row) return reply.status(404).type('application/problem+json').send({ status: 404, code: 'AF_ALERT_NOT_FOUND', detail: 'not found' });
    return { ...shown(row), history: histories.get(request.params.id) ?? [] };
  });

  app.patch<{ Params: { id: string } }>('/alerts/:id', async (request, reply) => {
    requests.at(-1)!.body = request.body;
    const auth = String(request.headers.authorization ?? '');
    if (!auth.startsWith('Bearer ') || !tokens.has(auth.slice(7))) {
      return reply.status(401).type('application/problem+json').send({ status: 401, code: 'AF_UNAUTHORIZED', detail: 'bad token' });
    }
    const row = rows.find((r) => r['alert_id'] === request.params.id);
    if (!row) return reply.status(404).type('application/problem+json').send({ status: 404, code: 'AF_ALERT_NOT_FOUND', detail: 'not found' });
    const body = request.body as { status: string; note?: string; actor?: string };
    const at = new Date().toISOString();
    const history = histories.get(request.params.id) ?? [];
    history.push({ from_status: row['status'], to_status: body.status, actor: body.actor ?? null, note: body.note ?? null, at });
    histories.set(request.params.id, history);
    Object.assign(row, {
      status: body.status,
      status_changed_at: at,
      status_changed_by: body.actor ?? null,
      status_note: body.note ?? null,
      updated_at: at,
    });
    broadcast('alert.updated', row);
    return row;
  });

  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    rows,
    requests,
    silences,
    deliveries,
    add(partial = {}) {
      const row = makeAlert(partial);
      rows.push(row);
      broadcast('alert.created', row);
      return row;
    },
    update(id, changes) {
      const row = rows.find((r) => r['alert_id'] === id);
      if (!row) throw new Error(`no alert ${id}`);
      Object.assign(row, changes, { updated_at: new Date().toISOString() });
      broadcast('alert.updated', row);
    },
    streams: () => clients.size,
    async close() {
      for (const res of clients) res.end();
      clients.clear();
      await app.close();
    },
  };
}
