import { type AuditEvent, type BatchHandler, type InboundMessage, isPermanent, type Logger } from '@auditflow/common';
import type { AlertOutcome, AnalysisEngine, BatchEvent } from '../engine/analysis-engine.ts';
import { decodeEvent } from '../engine/event-decoder.ts';
import type { Enricher } from '../enrichment/enricher.ts';
import { EventContext, type EventClock } from '../rules/event-context.ts';
import type { ExceptionMetrics } from '../exceptions/exception-metrics.ts';
import type { ExceptionsSource } from '../exceptions/exceptions-source.ts';
import type { AlertPublisher, PublishedAlert } from './alert-publisher.ts';
import type { AnalysisMetrics } from './analysis-metrics.ts';

export interface BatchEventHandlerDeps {
  engine: AnalysisEngine;
  publisher: AlertPublisher;
  metrics: AnalysisMetrics;
  logger: Logger;
  clock: EventClock;
  /** Adds `enrichment` to each decoded event before the rules see it; absent when the enrichment is off. */
  enricher?: Enricher | undefined;
  /** Alerts an active exception matches are dropped here, before they are published. */
  exceptions?: ExceptionsSource;
  exceptionMetrics?: ExceptionMetrics;
}

/** The newest version of one alert in a batch and the messages whose events went into it. */
interface Newest {
  outcome: AlertOutcome;
  isNew: boolean;
  /** The event of the newest version: the correlation id and the metric labels. */
  event: BatchEvent['context']['event'];
  messages: InboundMessage[];
}

/**
 * Handles a batch of deliveries: decodes each (a malformed one fails alone and
 * is dead-lettered), evaluates the whole batch at once, publishes the newest
 * version of each alert once, and resolves only when every publish is
 * confirmed, so the batch is acked after its alerts are safe. A publish
 * refused as a contract violation fails the messages behind that alert only;
 * anything else (Redis or RabbitMQ down) fails the batch, which is retried.
 */
export function createBatchEventHandler(deps: BatchEventHandlerDeps): BatchHandler {
  const { engine, publisher, metrics, logger, clock, enricher } = deps;
  // The delivery policy retries with the same message objects, so a retry is recognised per object.
  const seen = new WeakSet<InboundMessage>();

  return async (messages) => {
    const stopTimer = metrics.handlerDuration.startTimer();
    const failures = new Map<InboundMessage, unknown>();
    try {
      metrics.processed.inc(messages.length);
      metrics.consumed.inc(messages.length);
      const events: BatchEvent[] = [];
      const decoded: InboundMessage[] = [];
      for (const message of messages) {
        const retry = seen.has(message);
        seen.add(message);
        try {
          const { event, ts } = decodeEvent(message.body);
          const enrichment = enricher?.enrich(event);
          if (enrichment !== undefined) event['enrichment'] = enrichment;
          // A retry may follow a fold whose publish failed: it must publish again.
          events.push({ context: new EventContext(event, ts, clock), redelivered: message.redelivered || retry });
          decoded.push(message);
        } catch (error) {
          failures.set(message, error);
        }
      }
      const outcomes = await engine.processBatch(events);
      const newest = new Map<string, Newest>();
      outcomes.forEach((list, index) => {
        for (const outcome of list) {
          const message = decoded[index]!;
          const entry = newest.get(outcome.alertId);
          if (entry === undefined) {
            newest.set(outcome.alertId, {
              outcome,
              isNew: outcome.kind === 'new',
              event: events[index]!.context.event,
              messages: [message],
            });
            continue;
          }
          entry.messages.push(message);
          entry.isNew ||= outcome.kind === 'new';
          // Counts only grow within a batch, so the later version is the newer one.
          if (outcome.count >= entry.outcome.count) {
            entry.outcome = outcome;
            entry.event = events[index]!.context.event;
          }
        }
      });
      const publishing = [...newest.values()].filter((entry) => !excepted(entry));
      const results = await Promise.allSettled(publishing.map((entry) => publishOne(entry)));
      let retryable: unknown;
      results.forEach((result, index) => {
        if (result.status === 'fulfilled') return;
        const entry = publishing[index]!;
        if (isPermanent(result.reason)) for (const message of entry.messages) failures.set(message, result.reason);
        else retryable ??= result.reason;
      });
      if (retryable !== undefined) throw retryable;
      metrics.acked.inc(messages.length - failures.size);
      return failures;
    } finally {
      stopTimer();
    }
  };

  /**
   * Whether an exception hides this alert version: it is then not published and its messages are
   * acked like published ones. Decided on the built alert, the same thing the preview decides on.
   */
  function excepted(entry: Newest): boolean {
    const set = deps.exceptions?.current;
    if (set === undefined || set.size === 0) return false;
    const rule_id = entry.outcome.rule.id;
    const hit = set.match(rule_id, () => entry.outcome.alert, Date.now());
    if (hit === undefined) return false;
    const kind = entry.isNew ? 'new' : 'update';
    deps.exceptionMetrics?.excepted.inc({ rule_id, exception: hit.id, kind });
    logger.debug({ correlation_id: entry.event.event_id, alert_id: entry.outcome.alertId, rule_id, exception: hit.id, kind }, 'alert hidden by an exception');
    return true;
  }

  async function publishOne(entry: Newest): Promise<void> {
    const sent = await publisher.publish(entry.outcome, entry.event.event_id, entry.isNew);
    recordPublished({ metrics, logger }, entry.outcome, entry.event, sent);
  }
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
