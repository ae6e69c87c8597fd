import type { Logger } from '@auditflow/common';
import { LogThrottle } from './log-throttle.ts';
import { activityFactor } from './off-hours.ts';
import type { EventPublisher } from './publisher.ts';
import type { Random } from './random.ts';
import type { ScenarioRun } from './scenario-runner.ts';
import { RateScheduler, type Sleep } from './scheduler.ts';
import { generateEvent } from './templates.ts';

/** Publishes still unconfirmed at once in the background stream; more waits (backpressure). */
export const STREAM_MAX_IN_FLIGHT = 64;

export interface StreamOptions {
  publisher: EventPublisher;
  logger: Logger;
  eventsPerSecond: number;
  /** While true the stream idles (rate 0) without stopping. @default never */
  paused?: () => boolean;
  timeOfDayProfile: boolean;
  clock: () => number;
  random: Random;
  sleep?: Sleep;
}

/**
 * The steady random mix. Its rate is EVENTS_PER_SECOND during working hours
 * and scaled down at night when the profile is on. A failed publish is
 * counted by the publisher and logged here (throttled); it never stops the stream.
 */
export function createEventStream(options: StreamOptions): RateScheduler {
  const throttle = new LogThrottle({ intervalMs: 10_000 });
  return new RateScheduler({
    rate: (atMs) =>
      options.paused?.() ? 0 : options.eventsPerSecond * (options.timeOfDayProfile ? activityFactor(new Date(atMs)) : 1),
    task: () =>
      options.publisher.publish(generateEvent(undefined, { clock: options.clock, random: options.random })),
    clock: options.clock,
    ...(options.sleep ? { sleep: options.sleep } : {}),
    maxInFlight: STREAM_MAX_IN_FLIGHT,
    onError: (error) =>
      throttle.run((suppressed) =>
        options.logger.warn({ err: error, suppressed_since_last: suppressed }, 'background event not published'),
      ),
    onSkip: (missed) => options.logger.warn({ missed }, 'background stream fell behind; skipped events'),
  });
}

export interface ScheduleOptions {
  scenarios: readonly string[];
  intervalSeconds: number;
  firstDelaySeconds: number;
  /** While true no scenario is scheduled. @default never */
  paused?: () => boolean;
  logger: Logger;
  clock: () => number;
  run: (name: string) => Promise<ScenarioRun>;
  sleep?: Sleep;
}

/**
 * Runs the configured scenarios round-robin, one at a time, every
 * SCENARIO_INTERVAL_SECONDS, the first a few seconds after start so a fresh
 * deployment shows alerts within a minute.
 */
export function createScenarioSchedule(options: ScheduleOptions): RateScheduler {
  let next = 0;
  return new RateScheduler({
    rate: () => (options.paused?.() ? 0 : 1 / options.intervalSeconds),
    task: async () => {
      const name = options.scenarios[next++ % options.scenarios.length]!;
      const run = await options.run(name);
      options.logger.info({ scenario: name, events: run.events.length }, 'scheduled scenario published');
    },
    clock: options.clock,
    ...(options.sleep ? { sleep: options.sleep } : {}),
    maxInFlight: 1,
    firstDelayMs: options.firstDelaySeconds * 1000,
    // A scenario missed while the broker was down is not worth replaying.
    maxLagMs: options.intervalSeconds * 1000,
    onError: (error) => options.logger.warn({ err: error }, 'scheduled scenario failed'),
  });
}
