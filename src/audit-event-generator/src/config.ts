import {
  type BaseConfig,
  type Env,
  EnvReader,
  type RabbitConfig,
  readBaseConfig,
  readRabbitConfig,
} from '@auditflow/common';
import { SCENARIO_NAMES } from './scenarios.ts';

export interface GeneratorConfig {
  base: BaseConfig;
  /** `rabbit.url` is undefined when no broker is configured (only the all-in-one mode may then embed one). */
  rabbit: RabbitConfig;
  /** APP_PORT: the HTTP API. 0 picks a free port. */
  appPort: number;
  /** PROMETHEUS_PORT: /metrics. 0 picks a free port. */
  metricsPort: number;
  /** Interface both servers bind; Kubernetes probes need 0.0.0.0. */
  host: string;
  /** RABBITMQ_QUEUE. */
  queue: string;
  /** Background events per second during working hours; 0 = no background stream. */
  eventsPerSecond: number;
  /** Scale the background rate by the time of day (quieter nights). */
  timeOfDayProfile: boolean;
  /** Seconds between scheduled scenarios; 0 = none. */
  scenarioIntervalSeconds: number;
  /** Delay before the first scheduled scenario. */
  firstScenarioDelaySeconds: number;
  /** Scenarios the schedule cycles through, in order. */
  scenarios: readonly string[];
  /**
   * Tokens allowed to pause and resume the demo stream (POST /generator/pause|resume), each
   * with the scope `generator:control` (GENERATOR_CONTROL_TOKENS, comma-separated). Empty: the
   * control routes refuse every request; GET /generator/status stays open (it reveals no data).
   */
  controlTokens: readonly string[];
}

/** Generous for a Raspberry Pi; beyond this the API or the bench script is the right tool. */
export const MAX_EVENTS_PER_SECOND = 1000;
export const MAX_INTERVAL_SECONDS = 86_400;

/**
 * Parses and validates the generator's environment (docs/configuration.md).
 * Pure: reads only `env`; throws one ConfigError naming every bad variable.
 */
export function loadGeneratorConfig(env: Env): GeneratorConfig {
  const reader = new EnvReader(env);
  const base = readBaseConfig(reader);
  const rabbit = readRabbitConfig(reader, 10);
  const appPort = reader.port('APP_PORT', 5000);
  const metricsPort = reader.port('PROMETHEUS_PORT', 8000);
  const queue = reader.string('RABBITMQ_QUEUE', 'audit_events');
  if (queue.length > 255) reader.fail('RABBITMQ_QUEUE', 'must be at most 255 characters');
  const eventsPerSecond = readRate(reader);
  const scenarioIntervalSeconds = reader.number('SCENARIO_INTERVAL_SECONDS', 45, { min: 0, max: MAX_INTERVAL_SECONDS });
  if (scenarioIntervalSeconds > 0 && scenarioIntervalSeconds < 1) {
    reader.fail('SCENARIO_INTERVAL_SECONDS', `must be 0 (off) or at least 1, got ${scenarioIntervalSeconds}`);
  }
  const scenarios = readScenarios(reader);
  const controlTokens = reader.list('GENERATOR_CONTROL_TOKENS');
  if (controlTokens.some((token) => token.length < 16)) reader.fail('GENERATOR_CONTROL_TOKENS', 'each token must be at least 16 characters');
  reader.done();
  return {
    base,
    rabbit,
    appPort,
    metricsPort,
    host: '0.0.0.0',
    queue,
    eventsPerSecond,
    timeOfDayProfile: true,
    scenarioIntervalSeconds,
    firstScenarioDelaySeconds: Math.min(5, scenarioIntervalSeconds),
    scenarios,
    controlTokens,
  };
}

/**
 * EVENTS_PER_SECOND wins; the legacy EVENT_GENERATION_INTERVAL_SECONDS is
 * seconds between events. Both accept fractions, and 0 in either means "off"
 * (the original busy-looped on an interval of 0).
 */
function readRate(reader: EnvReader): number {
  if (reader.has('EVENTS_PER_SECOND')) {
    return reader.number('EVENTS_PER_SECOND', 1, { min: 0, max: MAX_EVENTS_PER_SECOND });
  }
  if (reader.has('EVENT_GENERATION_INTERVAL_SECONDS')) {
    const interval = reader.number('EVENT_GENERATION_INTERVAL_SECONDS', 1, { min: 0, max: MAX_INTERVAL_SECONDS });
    if (interval === 0) return 0;
    if (interval < 1 / MAX_EVENTS_PER_SECOND) {
      reader.fail('EVENT_GENERATION_INTERVAL_SECONDS', `must be 0 (off) or at least ${1 / MAX_EVENTS_PER_SECOND}`);
      return 1;
    }
    return 1 / interval;
  }
  return 1;
}

function readScenarios(reader: EnvReader): string[] {
  const names = reader.list('SCENARIOS');
  // "all" is the documented default, so it is accepted when spelled out too.
  if (names.length === 0 || (names.length === 1 && names[0]!.toLowerCase() === 'all')) return [...SCENARIO_NAMES];
  const unknown = names.filter((name) => !SCENARIO_NAMES.includes(name));
  if (unknown.length > 0) {
    reader.fail('SCENARIOS', `unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIO_NAMES.join(', ')}`);
  }
  return [...new Set(names)];
}
