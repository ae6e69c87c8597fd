import { createHash, timingSafeEqual } from 'node:crypto';
import { AuditFlowError } from '@auditflow/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DemoSwitch } from '../demo-switch.ts';

/** The one scope the control routes ask for. */
export const CONTROL_SCOPE = 'generator:control';

export interface ControlDeps {
  demo: DemoSwitch;
  /** Tokens holding CONTROL_SCOPE. */
  tokens: readonly string[];
  /** What the generator's own schedules are configured to do, for the status. */
  configured: { eventsPerSecond: number; scenarioIntervalSeconds: number };
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** The name of the token (a digest prefix, never the token), or an error for the request. */
function authorise(request: FastifyRequest, tokens: readonly string[]): string {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) {
    throw new AuditFlowError('AF_UNAUTHORIZED', `a bearer token with the scope ${CONTROL_SCOPE} is required (GENERATOR_CONTROL_TOKENS)`, {
      statusCode: 401,
    });
  }
  const sent = digest(match[1]!);
  // Digests have one length, so the comparison is constant-time whatever was sent.
  const found = tokens.find((token) => timingSafeEqual(digest(token), sent));
  if (found === undefined) throw new AuditFlowError('AF_FORBIDDEN', `this token does not hold the scope ${CONTROL_SCOPE}`, { statusCode: 403 });
  return `token-${digest(found).toString('hex').slice(0, 8)}`;
}

/**
 * GET /generator/status (open: it says only whether the demo stream runs) and
 * POST /generator/pause, /generator/resume (bearer token with the scope
 * generator:control). Pausing stops the made-up background events and the
 * scheduled scenarios; events posted to the API are still published.
 */
export function registerControlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const status = () => {
    const state = deps.demo.state;
    const configured = deps.configured.eventsPerSecond > 0 || deps.configured.scenarioIntervalSeconds > 0;
    return {
      running: configured && !state.paused,
      paused: state.paused,
      configured,
      events_per_second: deps.configured.eventsPerSecond,
      scenario_interval_seconds: deps.configured.scenarioIntervalSeconds,
      reason: state.reason,
      changed_by: state.by ?? null,
      since: state.since,
    };
  };
  app.get('/generator/status', async () => status());
  app.post('/generator/pause', async (request) => {
    deps.demo.pause('operator', authorise(request, deps.tokens));
    request.log.info({ by: deps.demo.state.by }, 'demo stream paused');
    return status();
  });
  app.post('/generator/resume', async (request) => {
    deps.demo.resume('operator', authorise(request, deps.tokens));
    request.log.info({ by: deps.demo.state.by }, 'demo stream resumed');
    return status();
  });
}
