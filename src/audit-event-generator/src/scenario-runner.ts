import { type AuditEvent, errorMessage, type MessageBroker, sleep as defaultSleep, AfPublishFailedError } from '@auditflow/common';
import { ScenarioOptionError } from './errors.ts';
import { toOutbound } from './publisher.ts';
import { buildScenarioEvents, type ScenarioOptions } from './scenarios.ts';

export interface RunScenarioOptions extends ScenarioOptions {
  /**
   * Send at most this many events per second (the CLI's --rate). The events
   * keep the timestamps the scenario gave them, so pacing the sends never
   * stretches the attack beyond the rule's window. @default as fast as confirms allow
   */
  rate?: number;
  /** Aborting stops between two events; what was sent stays sent. */
  signal?: AbortSignal;
  /** @default the common sleep */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface ScenarioRun {
  events: string[];
}

/**
 * Builds a scenario and publishes its events one after another, oldest first,
 * each awaited until confirmed, so the analysis service receives them in
 * event-time order. Throws TransientError AF_PUBLISH_FAILED naming what was
 * already sent when a publish fails.
 */
export async function runScenario(
  name: string,
  options: RunScenarioOptions,
  publish: (event: AuditEvent) => Promise<void>,
): Promise<ScenarioRun> {
  if (options.rate !== undefined && !(Number.isFinite(options.rate) && options.rate > 0)) {
    throw new ScenarioOptionError(`rate must be a positive number of events per second, got ${options.rate}`);
  }
  const events = buildScenarioEvents(name, options);
  const sleep = options.sleep ?? defaultSleep;
  const sent: string[] = [];
  for (const [index, event] of events.entries()) {
    if (options.signal?.aborted) break;
    if (index > 0 && options.rate !== undefined) await sleep(1000 / options.rate, options.signal);
    if (options.signal?.aborted) break;
    try {
      await publish(event);
    } catch (error) {
      throw new AfPublishFailedError(
        `scenario ${name}: ${sent.length} of ${events.length} events published, then: ${errorMessage(error)}`,
        { cause: error, details: { scenario: name, published: sent } },
      );
    }
    sent.push(event.event_id);
  }
  return { events: sent };
}

/**
 * Runs a scenario straight against a broker (the CLI's
 * `auditflow generate --scenario <name> [--rate N]`). Messages carry
 * messageId = correlationId = event_id like every generator event.
 */
export function publishScenario(
  broker: MessageBroker,
  queue: string,
  name: string,
  options: RunScenarioOptions = {},
): Promise<ScenarioRun> {
  return runScenario(name, options, (event) => broker.publish(queue, toOutbound(event)));
}
