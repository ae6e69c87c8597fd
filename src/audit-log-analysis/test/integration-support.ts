import type { Alert, AuditEvent, MessageBroker } from '@auditflow/common';
import { AmqpBroker } from '@auditflow/common';
import { Redis } from 'ioredis';
import { type AsyncMessage, Connection, ConsumerStatus } from 'rabbitmq-client';
import { type AnalysisConfig, loadAnalysisConfig } from '../src/config.ts';
import { type AnalysisHandle, startAnalysis } from '../src/service/start-analysis.ts';
import { RedisWindowStore } from '../src/store/redis-window-store.ts';
import { deleteQueues, RABBITMQ_URL, REDIS_URL, silentLogger, uniqueName } from '../../common/test/support.ts';

/** Unique queues and key prefix for one test, and the env that points a service at them. */
export interface TestNames {
  queue: string;
  alertQueue: string;
  prefix: string;
  env: Record<string, string>;
}

export function testNames(label: string, extraEnv: Record<string, string> = {}): TestNames {
  const base = uniqueName(label);
  const names = { queue: `${base}.events`, alertQueue: `${base}.alerts`, prefix: `${base}:` };
  return {
    ...names,
    env: {
      RABBITMQ_URL,
      REDIS_URL,
      RABBITMQ_QUEUE: names.queue,
      RABBITMQ_ALERT_QUEUE: names.alertQueue,
      REDIS_KEY_PREFIX: names.prefix,
      APP_PORT: '0',
      PROMETHEUS_PORT: '0',
      LOG_LEVEL: 'warn',
      ...extraEnv,
    },
  };
}

export interface RunningAnalysis {
  handle: AnalysisHandle;
  broker: MessageBroker;
  store: RedisWindowStore;
  config: AnalysisConfig;
  stop(): Promise<void>;
}

/** One analysis instance in this process on the real RabbitMQ and Redis. */
export async function startTestAnalysis(names: TestNames, env: Record<string, string> = {}): Promise<RunningAnalysis> {
  const config = loadAnalysisConfig({ ...names.env, ...env }, { standalone: true });
  const broker = new AmqpBroker({ url: config.rabbit.url!, logger: silentLogger, connectionName: 'analysis-test', queueType: config.rabbit.queueType });
  const store = new RedisWindowStore({ url: config.redis.url!, keyPrefix: config.redis.keyPrefix });
  const handle = await startAnalysis({ config, logger: silentLogger, broker, windowStore: store, host: '127.0.0.1' });
  return {
    handle,
    broker,
    store,
    config,
    stop: async () => {
      await handle.stop();
      await broker.close();
      await store.close();
    },
  };
}

/** Publishes raw bodies or events to a queue with confirms, through a plain client. */
export class TestPublisher {
  readonly #connection = new Connection({ url: RABBITMQ_URL, retryLow: 100, retryHigh: 500 });
  readonly #publisher = this.#connection.createPublisher({ confirm: true, maxAttempts: 3 });

  async declare(queues: readonly string[], type: 'quorum' | 'classic' = 'quorum'): Promise<void> {
    for (const queue of queues) {
      // A classic queue is declared as the original does: durable, no arguments at all.
      await this.#connection.queueDeclare(type === 'classic' ? { queue, durable: true } : { queue, durable: true, arguments: { 'x-queue-type': type } });
    }
  }

  async events(queue: string, events: readonly AuditEvent[], batch = 500): Promise<void> {
    for (let i = 0; i < events.length; i += batch) {
      await Promise.all(
        events.slice(i, i + batch).map((event) =>
          this.raw(queue, Buffer.from(JSON.stringify(event)), { messageId: event.event_id, correlationId: event.event_id }),
        ),
      );
    }
  }

  async raw(
    queue: string,
    body: Buffer,
    props: { messageId?: string; correlationId?: string; headers?: Record<string, unknown>; contentType?: string } = {},
  ): Promise<void> {
    await this.#publisher.send(
      { exchange: '', routingKey: queue, durable: true, contentType: 'application/json; charset=utf-8', ...props },
      body,
    );
  }

  async messageCount(queue: string): Promise<number> {
    const result = await this.#connection.queueDeclare({ queue, passive: true });
    return result.messageCount;
  }

  async close(): Promise<void> {
    await this.#publisher.close();
    await this.#connection.close();
  }
}

export interface ReceivedMessage {
  body: Buffer;
  headers: Record<string, unknown>;
}

/** Collects every message of a queue (the alert queue or a DLQ). */
export class QueueCollector {
  readonly messages: ReceivedMessage[] = [];
  readonly #connection = new Connection({ url: RABBITMQ_URL, retryLow: 100, retryHigh: 500 });
  readonly #consumer;

  constructor(queue: string, type: 'quorum' | 'classic' = 'quorum') {
    this.#consumer = this.#connection.createConsumer(
      { queue, queueOptions: { queue, durable: true, arguments: { 'x-queue-type': type } }, qos: { prefetchCount: 500 } },
      async (message: AsyncMessage) => {
        const body = Buffer.isBuffer(message.body) ? message.body : Buffer.from(typeof message.body === 'string' ? message.body : JSON.stringify(message.body));
        this.messages.push({ body, headers: (message.headers ?? {}) as Record<string, unknown> });
        return ConsumerStatus.ACK;
      },
    );
  }

  get alerts(): Alert[] {
    return this.messages.map((message) => JSON.parse(message.body.toString('utf8')) as Alert);
  }

  async close(): Promise<void> {
    await this.#consumer.close();
    await this.#connection.close();
  }
}

/** The final state of each alert: per alert id the version with the highest count (counts only grow). */
export function foldAlerts(alerts: readonly Alert[]): Map<string, Alert> {
  const folded = new Map<string, Alert>();
  for (const alert of alerts) {
    const known = folded.get(alert.alert_id);
    if (!known || (alert.count ?? 0) >= (known.count ?? 0)) folded.set(alert.alert_id, alert);
  }
  return folded;
}

/** Comparable summary: sorted `rule|group|count|first|last` lines. */
export function summarize(folded: ReadonlyMap<string, Alert>): string[] {
  return [...folded.values()]
    .map((a) => `${a.analysis_rule?.rule_id}|${JSON.stringify(a.group_key)}|${a.count}|${a.first_seen}|${a.last_seen}`)
    .sort();
}

/** Sorted `rule|alert id` lines: what must not change between an undisturbed run and any faulty one. */
export function idsByRule(folded: ReadonlyMap<string, Alert>): string[] {
  return [...folded.values()].map((a) => `${a.analysis_rule?.rule_id}|${a.alert_id}`).sort();
}

export async function cleanup(names: TestNames): Promise<void> {
  await deleteQueues([names.queue, names.alertQueue]);
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${names.prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

/** What a single analysis must produce for a stream: the rules run serially on the in-memory store. */
export async function expectedSummary(
  events: readonly AuditEvent[],
  env: Record<string, string> = {},
): Promise<{ summary: string[]; alertIds: number; ids: string[] }> {
  const { AnalysisEngine } = await import('../src/engine/analysis-engine.ts');
  const { MemoryWindowStore } = await import('../src/store/memory-window-store.ts');
  const { loadRulesFile } = await import('../src/rules/rules-file.ts');
  const { EventClock, EventContext } = await import('../src/rules/event-context.ts');
  const config = loadAnalysisConfig(env);
  const engine = new AnalysisEngine({
    rules: await loadRulesFile(config.rulesFile),
    store: new MemoryWindowStore(),
    settings: {
      latenessMs: config.allowedLatenessSeconds * 1000,
      defaultCooldownMs: config.suppressionCooldownSeconds * 1000,
      environment: config.base.environment,
    },
  });
  const clock = new EventClock(config.rulesTimezone);
  const alerts: Alert[] = [];
  for (const event of events) {
    const [outcomes] = await engine.processBatch([{ context: new EventContext(event, Date.parse(event.timestamp), clock), redelivered: false }]);
    for (const outcome of outcomes!) alerts.push(outcome.alert);
  }
  const folded = foldAlerts(alerts);
  return { summary: summarize(folded), alertIds: folded.size, ids: idsByRule(folded) };
}
