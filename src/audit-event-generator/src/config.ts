import {
  type BaseConfig,
  type Env,
  EnvReader,
  type RabbitConfig,
  readBaseConfig,
  readRabbitConfig,
} from '@auditflow/common';
import { defineEnv, envAccessors } from '@auditflow/common/platform';
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
}

/** Generous for a Raspberry Pi; beyond this the API or the bench script is the right tool. */
export const MAX_EVENTS_PER_SECOND = 1000;
export const MAX_INTERVAL_SECONDS = 86_400;

/** The generator's variables (docs/configuration.md is generated from this). */
export const GENERATOR_ENV = defineEnv({
  APP_PORT: {
    type: 'port',
    default: 5000,
    description: 'HTTP API: `POST /generate_event`, `POST /events`, `POST /scenarios/{name}`, `GET /scenarios`, `/healthz`, `/readyz`',
  },
  PROMETHEUS_PORT: { type: 'port', default: 8000, description: '`/metrics`' },
  RABBITMQ_QUEUE: { type: 'string', default: 'audit_events', description: 'queue the events go to' },
  EVENTS_PER_SECOND: {
    type: 'number',
    default: 1,
    min: 0,
    max: MAX_EVENTS_PER_SECOND,
    description: 'steady background rate; `0` turns the background stream off',
  },
  EVENT_GENERATION_INTERVAL_SECONDS: {
    type: 'number',
    min: 0,
    max: MAX_INTERVAL_SECONDS,
    description: 'legacy form of the rate (seconds between events, may be fractional); `EVENTS_PER_SECOND` wins when both are set',
  },
  SCENARIO_INTERVAL_SECONDS: {
    type: 'number',
    default: 45,
    min: 0,
    max: MAX_INTERVAL_SECONDS,
    description: 'every N seconds one attack scenario runs; `0` turns the schedule off. The first one runs 5 s after start',
  },
  SCENARIOS: { type: 'list', shown: 'all', description: 'comma-separated scenario names the schedule picks from' },
});
type GeneratorEnv = ReturnType<typeof envAccessors<typeof GENERATOR_ENV>>;

/**
 * Parses and validates the generator's environment (docs/configuration.md).
 * Pure: reads only `env`; throws one ConfigError naming every bad variable.
 */
export function loadGeneratorConfig(env: Env): GeneratorConfig {
  const reader = new EnvReader(env);
  const read = envAccessors(GENERATOR_ENV, reader);
  const base = readBaseConfig(reader);
  const rabbit = readRabbitConfig(reader, 10);
  const appPort = read.APP_PORT();
  const metricsPort = read.PROMETHEUS_PORT();
  const queue = read.RABBITMQ_QUEUE();
  if (queue.length > 255) reader.fail('RABBITMQ_QUEUE', 'must be at most 255 characters');
  const eventsPerSecond = readRate(reader, read);
  const scenarioIntervalSeconds = read.SCENARIO_INTERVAL_SECONDS();
  if (scenarioIntervalSeconds > 0 && scenarioIntervalSeconds < 1) {
    reader.fail('SCENARIO_INTERVAL_SECONDS', `must be 0 (off) or at least 1, got ${scenarioIntervalSeconds}`);
  }
  const scenarios = readScenarios(reader, read);
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
  };
}

/**
 * EVENTS_PER_SECOND wins; the legacy EVENT_GENERATION_INTERVAL_SECONDS is
 * seconds between events. Both accept fractions, and 0 in either means "off"
 * (the original busy-looped on an interval of 0).
 */
function readRate(reader: EnvReader, read: GeneratorEnv): number {
  if (reader.has('EVENTS_PER_SECOND')) return read.EVENTS_PER_SECOND();
  const interval = read.EVENT_GENERATION_INTERVAL_SECONDS();
  if (interval !== undefined) {
    if (interval === 0) return 0;
    if (interval < 1 / MAX_EVENTS_PER_SECOND) {
      reader.fail('EVENT_GENERATION_INTERVAL_SECONDS', `must be 0 (off) or at least ${1 / MAX_EVENTS_PER_SECOND}`);
      return 1;
    }
    return 1 / interval;
  }
  return 1;
}

function readScenarios(reader: EnvReader, read: GeneratorEnv): string[] {
  const names = read.SCENARIOS();
  // "all" is the documented default, so it is accepted when spelled out too.
  if (names.length === 0 || (names.length === 1 && names[0]!.toLowerCase() === 'all')) return [...SCENARIO_NAMES];
  const unknown = names.filter((name) => !SCENARIO_NAMES.includes(name));
  if (unknown.length > 0) {
    reader.fail('SCENARIOS', `unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIO_NAMES.join(', ')}`);
  }
  return [...new Set(names)];
}
