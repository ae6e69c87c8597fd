import { AfDeliveryLimitError } from '@auditflow/common/platform';
import { Counter, Gauge, Histogram, type Registry } from '@auditflow/common';
import { DECODE_ERROR_CODES, type DecodeFailure } from '../engine/event-decoder.ts';

export type DeadLetterReason = DecodeFailure | 'delivery_limit' | 'handler_error';

const DECODE_FAILURE_BY_CODE = new Map(Object.entries(DECODE_ERROR_CODES).map(([reason, code]) => [code, reason as DecodeFailure]));

/** The `reason` label of a dead letter, from the error code the delivery policy recorded. */
export function deadLetterReasonOf(code: string): DeadLetterReason {
  if (code === AfDeliveryLimitError.code) return 'delivery_limit';
  return DECODE_FAILURE_BY_CODE.get(code) ?? 'handler_error';
}

/** The service's metrics, exactly as docs/observability.md names them, on the instance's own registry. */
export class AnalysisMetrics {
  readonly processed: Counter;
  readonly consumed: Counter;
  readonly events: Counter<'outcome'>;
  readonly deadLetter: Counter<'reason'>;
  readonly alerts: Counter<'alert_type' | 'severity' | 'user_id' | 'server_hostname'>;
  readonly alertsPublished: Counter<'rule_id' | 'kind'>;
  readonly suppressed: Counter<'rule_id'>;
  readonly staleEvents: Counter<'rule_id'>;
  readonly lateEvents: Counter<'rule_id'>;
  readonly ruleMatches: Counter<'rule_id'>;
  readonly firstSeenLearned: Counter<'rule_id'>;
  readonly firstSeenEvicted: Counter<'rule_id' | 'reason'>;
  readonly firstSeenValues: Gauge<'rule_id'>;
  readonly firstSeenLearning: Gauge;
  readonly handlerDuration: Histogram;
  readonly rabbitStatus: Gauge;
  readonly redisStatus: Gauge;
  /** Pre-bound series of the per-delivery counters: no label hashing on the hot path. */
  readonly acked: { inc(value?: number): void };
  readonly retried: { inc(): void };
  readonly deadLettered: { inc(): void };

  /** `rulesLearning` answers how many first_seen rules are in their learning period, read at each scrape. */
  constructor(registry: Registry, ruleIds: readonly string[], firstSeen: { ruleIds: readonly string[]; rulesLearning: () => number } = { ruleIds: [], rulesLearning: () => 0 }) {
    const registers = [registry];
    this.processed = new Counter({ name: 'audit_analysis_processed_total', help: 'Deliveries handled, including redeliveries', registers });
    this.consumed = new Counter({ name: 'audit_analysis_rabbitmq_messages_consumed_total', help: 'Messages consumed from RabbitMQ', registers });
    this.events = new Counter({ name: 'audit_analysis_events_total', help: 'Delivery outcomes', labelNames: ['outcome'], registers });
    this.deadLetter = new Counter({ name: 'audit_analysis_dead_letter_total', help: 'Messages dead-lettered, by reason', labelNames: ['reason'], registers });
    this.alerts = new Counter({
      name: 'audit_analysis_alerts_total',
      help: 'Alerts opened (new episodes), by rule name',
      labelNames: ['alert_type', 'severity', 'user_id', 'server_hostname'],
      registers,
    });
    this.alertsPublished = new Counter({
      name: 'audit_analysis_alerts_published_total',
      help: 'Alert publishes confirmed by the broker: new episodes and updates of open ones',
      labelNames: ['rule_id', 'kind'],
      registers,
    });
    this.suppressed = new Counter({ name: 'audit_analysis_suppressed_total', help: 'Repeats folded into an open alert', labelNames: ['rule_id'], registers });
    this.staleEvents = new Counter({
      name: 'audit_analysis_stale_events_total',
      help: 'Matches older than the open alert episode of their group, not folded into it',
      labelNames: ['rule_id'],
      registers,
    });
    this.lateEvents = new Counter({ name: 'audit_analysis_late_events_total', help: 'Events older than the allowed lateness, not counted', labelNames: ['rule_id'], registers });
    this.ruleMatches = new Counter({ name: 'audit_analysis_rule_matches_total', help: 'Rule matches (base rules) and firings (correlations)', labelNames: ['rule_id'], registers });
    this.handlerDuration = new Histogram({
      name: 'audit_analysis_handler_duration_seconds',
      help: 'Time to handle one delivery, alert publishes included',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    this.firstSeenLearned = new Counter({
      name: 'audit_analysis_first_seen_values_learned_total',
      help: 'Value combinations a first_seen rule learned (during its learning period or raised after it)',
      labelNames: ['rule_id'],
      registers,
    });
    this.firstSeenEvicted = new Counter({
      name: 'audit_analysis_first_seen_values_evicted_total',
      help: 'Value combinations a first_seen rule dropped: least recently seen past max_values, or unseen for forget_after; each fires again when next seen',
      labelNames: ['rule_id', 'reason'],
      registers,
    });
    this.firstSeenValues = new Gauge({
      name: 'audit_analysis_first_seen_values',
      help: 'Value combinations a first_seen rule keeps, as of its last batch',
      labelNames: ['rule_id'],
      registers,
    });
    this.firstSeenLearning = new Gauge({
      name: 'audit_analysis_first_seen_rules_learning',
      help: 'first_seen rules in their learning period (raising nothing)',
      registers,
      collect() {
        this.set(firstSeen.rulesLearning());
      },
    });
    for (const rule_id of firstSeen.ruleIds) {
      this.firstSeenLearned.inc({ rule_id }, 0);
      for (const reason of ['max_values', 'forget_after']) this.firstSeenEvicted.inc({ rule_id, reason }, 0);
    }
    this.rabbitStatus = new Gauge({ name: 'audit_analysis_rabbitmq_consumer_connection_status', help: '1 when connected to RabbitMQ', registers });
    this.redisStatus = new Gauge({ name: 'audit_analysis_redis_connection_status', help: '1 when connected to the window store', registers });
    // Series exist from the start, so rate() and absent() work before the first event.
    for (const outcome of ['ack', 'dead_letter', 'retry']) this.events.inc({ outcome }, 0);
    this.acked = this.events.labels('ack');
    this.retried = this.events.labels('retry');
    this.deadLettered = this.events.labels('dead_letter');
    for (const reason of ['invalid_json', 'invalid_utf8', 'not_object', 'schema', 'oversized', 'delivery_limit', 'handler_error']) this.deadLetter.inc({ reason }, 0);
    for (const rule_id of ruleIds) {
      this.ruleMatches.inc({ rule_id }, 0);
      this.suppressed.inc({ rule_id }, 0);
      this.staleEvents.inc({ rule_id }, 0);
      this.lateEvents.inc({ rule_id }, 0);
    }
  }
}
