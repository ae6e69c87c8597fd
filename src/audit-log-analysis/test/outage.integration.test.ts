// Outages mid-stream: the analysis reaches RabbitMQ and Redis through TCP relays that the
// test cuts and restores, so the shared servers other suites use are never touched.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { TcpProxy } from '../../common/test/tcp-proxy.ts';
import { RABBITMQ_URL, REDIS_URL, waitFor } from '../../common/test/support.ts';
import { failedLogin, T0 } from './fixtures.ts';
import { cleanup, foldAlerts, QueueCollector, startTestAnalysis, TestPublisher, testNames } from './integration-support.ts';

const S = 1000;

/** The same URL (user, password, vhost, database) pointed at a local relay port. */
function throughRelay(url: string, port: number): string {
  const relayed = new URL(url);
  relayed.hostname = '127.0.0.1';
  relayed.port = String(port);
  return relayed.toString();
}

async function readiness(url: string): Promise<{ status: number; checks: Record<string, { ok: boolean }> }> {
  const response = await fetch(`${url}/readyz`);
  const body = (await response.json()) as { checks?: Record<string, { ok: boolean }> };
  return { status: response.status, checks: body.checks ?? {} };
}

describe('analysis through Redis and RabbitMQ outages', () => {
  const names = testNames('outage');
  const publisher = new TestPublisher();
  after(async () => {
    await publisher.close();
    await cleanup(names);
  });

  test('readiness follows each outage, processing resumes after it, and no alert is lost or duplicated', async () => {
    const rabbitTarget = new URL(RABBITMQ_URL);
    const redisTarget = new URL(REDIS_URL);
    const rabbit = await TcpProxy.start(rabbitTarget.hostname, Number(rabbitTarget.port || 5672));
    const redis = await TcpProxy.start(redisTarget.hostname, Number(redisTarget.port || 6379));
    await publisher.declare([names.queue, `${names.queue}.dlq`, names.alertQueue, `${names.alertQueue}.dlq`]);
    const alerts = new QueueCollector(names.alertQueue);
    const analysis = await startTestAnalysis(names, {
      // The relays stand in for the servers' addresses only: credentials, vhost and database are the run's own.
      RABBITMQ_URL: throughRelay(RABBITMQ_URL, rabbit.port),
      REDIS_URL: throughRelay(REDIS_URL, redis.port),
    });
    const url = analysis.handle.urls['http']!;
    const burst = (user: string, at: number) => [0, 1, 2].map((i) => failedLogin(user, 'prod-db-02', at + i * S));
    const alertFor = (user: string) => () => alerts.alerts.find((alert) => alert.triggered_by?.actor_id === user) ?? undefined;
    try {
      await waitFor(async () => ((await readiness(url)).status === 200 ? true : undefined), 20_000, 'ready');
      await publisher.events(names.queue, burst('before_outage', T0));
      await waitFor(alertFor('before_outage'), 20_000, 'the first alert');

      redis.cut();
      await waitFor(async () => ((await readiness(url)).checks['redis']?.ok === false ? true : undefined), 20_000, 'not ready without Redis');
      await publisher.events(names.queue, burst('during_redis_outage', T0 + 10 * S));
      await waitFor(
        async () => (/audit_analysis_events_total\{outcome="retry",service="audit-log-analysis"\} [1-9]/.test(await analysis.handle.registry.metrics()) ? true : undefined),
        20_000,
        'retries while Redis is down',
      );
      assert.equal(alertFor('during_redis_outage')(), undefined);
      redis.restore();
      await waitFor(alertFor('during_redis_outage'), 30_000, 'the alert held back by the Redis outage');
      await waitFor(async () => ((await readiness(url)).status === 200 ? true : undefined), 20_000, 'ready again after Redis');

      rabbit.cut();
      await waitFor(async () => ((await readiness(url)).checks['rabbitmq']?.ok === false ? true : undefined), 20_000, 'not ready without RabbitMQ');
      // Published directly to the broker: the events wait in the queue until the analysis reconnects.
      await publisher.events(names.queue, burst('during_rabbit_outage', T0 + 20 * S));
      rabbit.restore();
      await waitFor(alertFor('during_rabbit_outage'), 60_000, 'the alert held back by the RabbitMQ outage');
      await waitFor(async () => ((await readiness(url)).status === 200 ? true : undefined), 30_000, 'ready again after RabbitMQ');
      await waitFor(async () => ((await publisher.messageCount(names.queue)) === 0 ? true : undefined), 20_000, 'the queue drained');

      const folded = foldAlerts(alerts.alerts);
      const users = [...folded.values()].map((alert) => `${alert.analysis_rule?.rule_id}:${alert.triggered_by?.actor_id}`).sort();
      assert.deepEqual(
        users.filter((entry) => entry.startsWith('ANLY-SEC-001:')),
        ['ANLY-SEC-001:before_outage', 'ANLY-SEC-001:during_rabbit_outage', 'ANLY-SEC-001:during_redis_outage'],
        'one alert per burst, none lost and none duplicated',
      );
      assert.equal(await publisher.messageCount(`${names.queue}.dlq`), 0, 'nothing was dead-lettered');
    } finally {
      await analysis.stop();
      await alerts.close();
      await rabbit.close();
      await redis.close();
    }
  });
});
