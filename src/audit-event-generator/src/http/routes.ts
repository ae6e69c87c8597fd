import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from './deps.ts';
import { registerEvents } from './events.ts';
import { registerGenerateEvent } from './generate-event.ts';
import { acceptJsonOnly } from './request-body.ts';
import { registerScenarios } from './scenarios.ts';

/** The generator's API on top of the common server (which already serves /healthz and /readyz). */
export function registerGeneratorRoutes(app: FastifyInstance, deps: RouteDeps): void {
  acceptJsonOnly(app);
  registerGenerateEvent(app, deps);
  registerEvents(app, deps);
  registerScenarios(app, deps);
}

export type { RouteDeps } from './deps.ts';
