import { Counter, Gauge, type Registry } from '@auditflow/common';
import { KNOWN_ACTION_RESULTS, KNOWN_EVENT_TYPES, KNOWN_HOSTS } from './catalog.ts';

/** Label value for anything outside a known set: API input must not create unbounded series. */
export const OTHER_LABEL = 'other';

export interface GeneratorMetrics {
  events: Counter<'event_type' | 'server_hostname' | 'action_result'>;
  publishedSuccess: Counter;
  publishedFailure: Counter;
  connectionStatus: Gauge;
  scenarios: Counter<'scenario'>;
}

/** The generator's series, names exactly as docs/observability.md. */
export function createGeneratorMetrics(registry: Registry, scenarioNames: readonly string[]): GeneratorMetrics {
  const registers = [registry];
  const scenarios = new Counter({
    name: 'audit_event_generator_scenarios_total',
    help: 'Attack scenarios run, scheduled or on request',
    labelNames: ['scenario'],
    registers,
  });
  // Zero series up front, so dashboards and rate() see every scenario before its first run.
  for (const scenario of scenarioNames) scenarios.inc({ scenario }, 0);
  return {
    events: new Counter({
      name: 'audit_event_generator_events_total',
      help: 'Audit events generated (background, API and scenarios), counted before publishing',
      labelNames: ['event_type', 'server_hostname', 'action_result'],
      registers,
    }),
    publishedSuccess: new Counter({
      name: 'audit_event_generator_published_success_total',
      help: 'Events the broker confirmed',
      registers,
    }),
    publishedFailure: new Counter({
      name: 'audit_event_generator_published_failure_total',
      help: 'Events the broker did not confirm',
      registers,
    }),
    connectionStatus: new Gauge({
      name: 'audit_event_generator_rabbitmq_connection_status',
      help: '1 while connected to RabbitMQ, 0 otherwise',
      registers,
    }),
    scenarios,
  };
}

export function boundedLabel(value: unknown, known: readonly string[]): string {
  return typeof value === 'string' && known.includes(value) ? value : OTHER_LABEL;
}

export function eventLabels(event: {
  event_type?: unknown;
  server_hostname?: unknown;
  action_result?: unknown;
}): Record<'event_type' | 'server_hostname' | 'action_result', string> {
  return {
    event_type: boundedLabel(event.event_type, KNOWN_EVENT_TYPES),
    server_hostname: boundedLabel(event.server_hostname, KNOWN_HOSTS),
    action_result: boundedLabel(event.action_result, KNOWN_ACTION_RESULTS),
  };
}
