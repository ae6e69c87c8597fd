import {
  createHttpServer,
  createMetricsServer,
  createRegistry,
  HealthRegistry,
  startHttpService,
  type Logger,
  MAX_EVENT_BYTES,
  type MessageBroker,
  type Registry,
  type ServiceHandle,
} from '@auditflow/common';
import type { FastifyInstance } from 'fastify';
import { createEventStream, createScenarioSchedule } from './background.ts';
import type { GeneratorConfig } from './config.ts';
import { DemoSwitch } from './demo-switch.ts';
import { registerControlRoutes } from './http/control.ts';
import { registerGeneratorRoutes } from './http/routes.ts';
import { createGeneratorMetrics, type GeneratorMetrics } from './metrics.ts';
import { EventPublisher } from './publisher.ts';
import type { Random } from './random.ts';
import { type RunScenarioOptions, runScenario, type ScenarioRun } from './scenario-runner.ts';
import { SCENARIO_NAMES, type ScenarioOptions } from './scenarios.ts';
import type { RateScheduler, Sleep } from './scheduler.ts';
import { QueueTopology } from './topology.ts';

export const SERVICE_NAME = 'audit-event-generator';

/** How long an API publish waits for the queue to be declared before answering 503. */
const TOPOLOGY_WAIT_MS = 10_000;

export interface StartGeneratorOptions {
  config: GeneratorConfig;
  logger: Logger;
  /** Owned by the caller: stop() leaves it open. */
  broker: MessageBroker;
  /** Milliseconds since the epoch, for timestamps and the schedules. @default Date.now */
  clock?: () => number;
  /** @default Math.random */
  random?: Random;
  /** For tests that drive the schedules with a fake clock. @default a real timer */
  sleep?: Sleep;
}

/** A running generator; `app`/`metricsApp` allow inject() in tests. */
export interface GeneratorHandle extends ServiceHandle {
  readonly app: FastifyInstance;
  readonly metricsApp: FastifyInstance;
  readonly registry: Registry;
  readonly metrics: GeneratorMetrics;
  /** Runs a scenario now through the generator's publisher (counted in the metrics). */
  runScenario(name: string, options?: RunScenarioOptions): Promise<ScenarioRun>;
  /** Pauses and resumes the demo stream (background events and scheduled scenarios). */
  readonly demo: DemoSwitch;
}

/**
 * Starts the generator on an injected broker: the HTTP API on config.appPort,
 * /metrics on config.metricsPort, the background stream and the scenario
 * schedule (both once the queue is declared).
 */
export async function startGenerator(options: StartGeneratorOptions): Promise<GeneratorHandle> {
  const { config, broker } = options;
  const logger = options.logger;
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;

  const registry = createRegistry(SERVICE_NAME);
  const metrics = createGeneratorMetrics(registry, SCENARIO_NAMES);
  metrics.connectionStatus.set(broker.isConnected() ? 1 : 0);
  broker.onConnectionChange((connected) => metrics.connectionStatus.set(connected ? 1 : 0));

  const topology = new QueueTopology({ broker, queues: [config.queue], logger });
  const publisher = new EventPublisher({
    broker,
    queue: config.queue,
    metrics,
    ready: () => topology.waitReady(TOPOLOGY_WAIT_MS),
  });

  const health = new HealthRegistry();
  health.register('rabbitmq', () => broker.check());
  health.register('queues', () => topology.check());

  const scenarioNow = (scenarioOptions: ScenarioOptions | undefined): ScenarioOptions => ({
    now: new Date(clock()),
    random,
    ...scenarioOptions,
  });
  const runCounted = async (name: string, runOptions?: RunScenarioOptions): Promise<ScenarioRun> => {
    const run = await runScenario(name, scenarioNow(runOptions), (event) => publisher.publish(event));
    // Counted once every event is confirmed: the series says which alerts to expect.
    metrics.scenarios.inc({ scenario: name });
    return run;
  };

  const demo = new DemoSwitch(clock);
  demo.onChange((state) =>
    logger.info({ paused: state.paused, reason: state.reason, by: state.by }, state.paused ? 'demo stream paused' : 'demo stream resumed'),
  );
  const app = createHttpServer({ logger, health, instrumentRegistry: registry, bodyLimit: MAX_EVENT_BYTES });
  registerGeneratorRoutes(app, { publisher, clock, random, runScenario: (name, o) => runCounted(name, o) });
  registerControlRoutes(app, {
    demo,
    tokens: config.controlTokens,
    configured: { eventsPerSecond: config.eventsPerSecond, scenarioIntervalSeconds: config.scenarioIntervalSeconds },
  });
  const metricsApp = createMetricsServer({ logger, registry });

  const schedulers: RateScheduler[] = [];
  if (config.eventsPerSecond > 0) {
    schedulers.push(
      createEventStream({
        publisher,
        logger,
        eventsPerSecond: config.eventsPerSecond,
        paused: () => demo.paused,
        timeOfDayProfile: config.timeOfDayProfile,
        clock,
        random,
        ...(options.sleep ? { sleep: options.sleep } : {}),
      }),
    );
  }
  if (config.scenarioIntervalSeconds > 0 && config.scenarios.length > 0) {
    schedulers.push(
      createScenarioSchedule({
        scenarios: config.scenarios,
        intervalSeconds: config.scenarioIntervalSeconds,
        firstDelaySeconds: config.firstScenarioDelaySeconds,
        paused: () => demo.paused,
        logger,
        clock,
        run: (name) => runCounted(name),
        ...(options.sleep ? { sleep: options.sleep } : {}),
      }),
    );
  }

  let stopping = false;
  // The schedules start once the queue exists; a stop() before that simply means they never start.
  void topology.whenReady().then(
    () => {
      if (!stopping) for (const scheduler of schedulers) scheduler.start();
    },
    () => undefined,
  );

  const service = await startHttpService({
    name: SERVICE_NAME,
    host: config.host,
    health,
    listeners: [
      { name: 'http', app, port: config.appPort, variable: 'APP_PORT' },
      { name: 'metrics', app: metricsApp, port: config.metricsPort, variable: 'PROMETHEUS_PORT', path: '/metrics' },
    ],
    abort: () => topology.stop(),
    drain: async () => {
      stopping = true;
      topology.stop();
      // Schedules first, so nothing new is published while the servers drain.
      await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
    },
  });
  logger.info(
    {
      queue: config.queue,
      events_per_second: config.eventsPerSecond,
      scenario_interval_seconds: config.scenarioIntervalSeconds,
      scenarios: config.scenarios,
    },
    'generator configured',
  );

  return {
    ...service,
    app,
    metricsApp,
    registry,
    metrics,
    runScenario: runCounted,
    demo,
  };
}
