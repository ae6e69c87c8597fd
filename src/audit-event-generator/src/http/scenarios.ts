import { ValidationError } from '@auditflow/common';
import type { FastifyInstance } from 'fastify';
import { UnknownScenarioError } from '../errors.ts';
import { findScenario, SCENARIO_NAMES, SCENARIOS, type ScenarioOptions } from '../scenarios.ts';
import type { RouteDeps } from './deps.ts';
import { assertJsonContentType, isPlainObject } from './request-body.ts';

/** GET /scenarios and POST /scenarios/{name}. */
export function registerScenarios(app: FastifyInstance, deps: RouteDeps): void {
  app.get('/scenarios', async () => ({
    scenarios: SCENARIOS.map((scenario) => ({
      name: scenario.name,
      description: scenario.description,
      expected_rules: scenario.expectedRules,
    })),
  }));

  app.post<{ Params: { name: string } }>('/scenarios/:name', async (request, reply) => {
    const scenario = findScenario(request.params.name);
    if (!scenario) throw new UnknownScenarioError(request.params.name, SCENARIO_NAMES);
    assertJsonContentType(request);
    const run = await deps.runScenario(scenario.name, scenarioOptions(request.body));
    return reply.status(202).send({ scenario: scenario.name, events: run.events, expected_rules: scenario.expectedRules });
  });
}

/** The optional body {user, host, ip} pins who and where, so tests and demos can isolate runs. */
function scenarioOptions(body: unknown): ScenarioOptions {
  if (body === undefined || body === null) return {};
  if (!isPlainObject(body)) throw new ValidationError('the body must be a JSON object with optional user, host and ip');
  const options: ScenarioOptions = {};
  const errors: { path: string; message: string }[] = [];
  for (const key of ['user', 'host', 'ip'] as const) {
    const value = body[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.trim() === '' || value.length > 255) {
      errors.push({ path: `/${key}`, message: 'must be a non-empty string of at most 255 characters' });
    } else {
      options[key] = value;
    }
  }
  if (errors.length > 0) throw new ValidationError('invalid scenario options', errors);
  return options;
}
