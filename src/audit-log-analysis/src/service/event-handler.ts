import type { AuditEvent, InboundMessage, Logger, MessageHandler } from '@auditflow/common';
import type { AlertOutcome, AnalysisEngine } from '../engine/analysis-engine.ts';
import { decodeEvent } from '../engine/event-decoder.ts';
import { EventContext, type EventClock } from '../rules/event-context.ts';
import type { AlertPublisher, PublishedAlert } from './alert-publisher.ts';
import type { AnalysisMetrics } from './analysis-metrics.ts';

export interface EventHandlerDeps {
  engine: AnalysisEngine;
  publisher: AlertPublisher;
  metrics: AnalysisMetrics;
  logger: Logger;
  clock: EventClock;
  /** EVENT_MAX_FUTURE_SKEW_SECONDS in ms. */
  maxFutureSkewMs: number;
}

/**
 * Handles one delivery: decode at the edge, evaluate every rule, publish the
 * resulting alerts, and resolve (ack) only once every publish is confirmed.
 * Errors keep their class, so the broker policy dead-letters permanent ones
 * and retries transient ones (Redis or RabbitMQ down) without losing events;
 * the policy's hooks count both (see startAnalysis).
 */
export function createEventHandler(deps: EventHandlerDeps): MessageHandler {
  const { engine, publisher, metrics, logger, clock, maxFutureSkewMs } = deps;
  // The delivery policy retries with the same message object, so a retry is recognised per object.
  const seen = new WeakSet<InboundMessage>();

  return async (message) => {
    const stopTimer = metrics.handlerDuration.startTimer();
    metrics.processed.inc();
    metrics.consumed.inc();
    const retry = seen.has(message);
    seen.add(message);
    try {
      const { event, ts, skew } = decodeEvent(message.body, { now: Date.now(), maxFutureSkewMs });
          if (skew !== undefined) noteSkew({ metrics, logger }, event, skew);
      const context = new EventContext(event, ts, clock);
      // A retry may follow a fold whose publish failed: it must publish again.
      const outcomes = await engine.process(context, message.redelivered || retry);
      if (outcomes.length > 0) {
        await Promise.all(
          outcomes.map(async (outcome) => {
            const sent = await publisher.publish(outcome, event.event_id, outcome.kind === 'new');
            recordPublished({ metrics, logger }, outcome, event, sent);
          }),
        );
      }
      metrics.acked.inc();
    } finally {
      stopTimer();
    }
  };
}

/** Counts and logs an event whose claimed time was replaced by its receive time. */
export function noteSkew(deps: { metrics: AnalysisMetrics; logger: Logger }, event: AuditEvent, direction: 'future' | 'past'): void {
  deps.metrics.clockSkew.inc({ direction });
  deps.logger.warn(
    { correlation_id: event.event_id, server_hostname: event.server_hostname, claimed: event.clock_skew?.claimed_timestamp, peer: event.source?.peer },
    'event time beyond the allowed skew; evaluated at its receive time',
  );
}

/**
 * Counts and logs a confirmed publish. Versions folded into one publish are
 * counted once, by the caller whose version was sent.
 */
export function recordPublished(
  deps: { metrics: AnalysisMetrics; logger: Logger },
  outcome: AlertOutcome,
  event: AuditEvent,
  sent: PublishedAlert,
): void {
  if (sent.version !== outcome) return;
  const { rule } = outcome;
  const alert = sent.alert;
  deps.metrics.alertsPublished.inc({ rule_id: rule.id, kind: sent.isNew ? 'new' : 'update' });
  const fields = { correlation_id: event.event_id, alert_id: alert.alert_id, rule_id: rule.id };
  if (sent.isNew) {
    deps.metrics.alerts.inc({
      alert_type: rule.name ?? rule.id,
      severity: alert.severity,
      user_id: event.user_id,
      server_hostname: event.server_hostname,
    });
    deps.logger.info({ ...fields, group_key: alert.group_key }, 'alert opened');
  } else {
    deps.logger.debug({ ...fields, count: alert.count }, 'alert updated');
  }
}
