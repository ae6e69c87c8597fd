import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AmqpBroker } from '@auditflow/common';
import { deleteQueues, makeAlert, postgresDatabase, RABBITMQ_URL, silentLogger, type TestDatabase, waitFor } from './helpers.ts';
import { type Harness, startHarness } from './service-harness.ts';
import { TcpProxy } from '../../common/test/tcp-proxy.ts';

/**
 * The original closed its pool for good on the first database error and
 * lost or looped alerts. Here the pool loses its connections (terminated
 * backends, then a full outage through a cut proxy) while alerts flow, and
 * every alert must still be stored exactly once, with readiness following the
 * database.
 */
describe('recovery from database connection loss', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let harness: Harness;
  let publisher: AmqpBroker;
  let appName: string;

  before(async () => {
    db = await postgresDatabase();
    const target = new URL(db.url!);
    proxy = await TcpProxy.start(target.hostname, Number(target.port || 5432));
    const viaProxy = new URL(db.url!);
    viaProxy.port = String(proxy.port);
    appName = `${db.schema}-recovery`;
    const broker = new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'recovery-test', queueType: 'quorum' });
    harness = await startHarness(db, { broker, store: { url: viaProxy.toString(), applicationName: appName } });
    publisher = new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'recovery-pub', queueType: 'quorum' });
    await publisher.declareQueues([harness.queue]);
  });
  after(async () => {
    await harness.stop();
    await publisher.close();
    await proxy.close();
    await deleteQueues([harness.queue]);
    await db.drop();
  });

  const ready = async () => (await harness.handle.app.inject({ url: '/readyz' })).statusCode;
  const severity = `RECOVERY${Date.now()}`;

  test('terminated backends and a full outage lose nothing and duplicate nothing', async () => {
    const published: string[] = [];
    const publishSome = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const alert = makeAlert({ severity });
        await publisher.publish(harness.queue, { body: alert, messageId: alert.alert_id });
        published.push(alert.alert_id);
      }
    };

    // Phase 1: kill the service's backends over and over while alerts stream in.
    let killing = true;
    let kills = 0;
    const killer = (async () => {
      while (killing) {
        const { rows } = await db.admin.query<{ n: number }>(
          'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
          [appName],
        );
        kills += rows[0]!.n;
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    })();
    for (let round = 0; round < 10; round++) await publishSome(100);
    await waitFor(() => (kills > 0 ? true : undefined), 10_000, 'at least one backend terminated');
    killing = false;
    await killer;

    // Phase 2: the database becomes unreachable; readiness must say so.
    proxy.cut();
    await waitFor(async () => ((await ready()) === 503 ? true : undefined), 10_000, 'readiness false during the outage');
    const metrics = (await harness.handle.app.inject({ url: '/metrics' })).body;
    assert.match(metrics, /notification_database_up\{[^}]*\} 0/);
    const apiDuringOutage = await harness.handle.app.inject({ url: '/alerts?limit=1' });
    assert.equal(apiDuringOutage.statusCode, 503, 'a database outage is a 503, never an empty 200');
    await publishSome(200);

    proxy.restore();
    await waitFor(async () => ((await ready()) === 200 ? true : undefined), 20_000, 'readiness back after the outage');

    await waitFor(
      async () => {
        const { rows } = await db.admin.query<{ n: number }>('SELECT count(*)::int AS n FROM alerts WHERE severity = $1', [severity]);
        return rows[0]!.n === published.length ? true : undefined;
      },
      60_000,
      'every published alert stored',
    );
    const { rows } = await db.admin.query<{ alert_id: string }>('SELECT alert_id::text AS alert_id FROM alerts WHERE severity = $1', [
      severity,
    ]);
    assert.equal(rows.length, published.length);
    assert.deepEqual(new Set(rows.map((r) => r.alert_id)), new Set(published));
    assert.ok(kills > 0, `backends terminated: ${kills}`);
  });
});
