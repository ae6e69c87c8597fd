import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AmqpBroker } from '@auditflow/common';
import { freePort, startService, waitForHttp } from '../../../tests/support/processes.ts';
import {
  deleteQueues,
  makeAlert,
  postgresDatabase,
  RABBITMQ_URL,
  silentLogger,
  type TestDatabase,
  uniqueName,
  waitFor,
} from './helpers.ts';
import { HttpReceiver, verifyWebhookSignature } from './receivers.ts';
import { type Harness, startHarness } from './service-harness.ts';

const SECRET = 'whsec-faults-0123456789';
process.env.AF_TEST_WEBHOOK_SECRET = SECRET;

interface WebhookBody {
  id: string;
  alerts: { delivery_id: string; alert: { alert_id: string } }[];
}

function webhookYaml(url: string): string {
  return `outputs:
  - name: hook
    type: webhook
    url: ${url}/hook
    secret: { env: AF_TEST_WEBHOOK_SECRET }
    timeout: 1s
route:
  receiver: hook
  group_by: [alert_id]
  group_wait: 0s
delivery:
  backoff_initial: 100ms
  backoff_max: 500ms
`;
}

describe('delivery faults (real PostgreSQL)', () => {
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    db = await postgresDatabase();
    dir = await mkdtemp(join(tmpdir(), 'af-faults-'));
  });
  after(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  test('notification-service killed mid-delivery: the next replica sends it again under the same id, settled once', async () => {
    const receiver = await HttpReceiver.start();
    const file = join(dir, 'kill.yaml');
    await writeFile(file, webhookYaml(receiver.url));
    const queue = uniqueName('alerts');
    const env = (port: number) => ({
      DATABASE_URL: db.url!,
      RABBITMQ_URL,
      RABBITMQ_ALERT_QUEUE: queue,
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      OUTPUTS_FILE: file,
      AF_TEST_WEBHOOK_SECRET: SECRET,
      OUTBOX_POLL_MS: '50',
      OUTBOX_LEASE_MS: '3000',
      LOG_LEVEL: 'warn',
    });
    const publisher = new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'faults-pub', queueType: 'quorum' });
    const firstPort = await freePort();
    const first = startService('notification-service', env(firstPort));
    let second: ReturnType<typeof startService> | undefined;
    try {
      await waitForHttp(`http://127.0.0.1:${firstPort}/readyz`);
      // The first request kills its sender while it waits for the answer: the receiver has the
      // notification, the outbox row is still leased to a dead replica.
      let killed = false;
      receiver.respond = async () => {
        if (!killed) {
          killed = true;
          first.child.kill('SIGKILL');
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        return 200;
      };
      await publisher.declareQueues([queue]);
      const alert = makeAlert();
      await publisher.publish(queue, { body: alert, messageId: alert.alert_id });
      await waitFor(() => killed || undefined, 15_000, 'the first delivery attempt');
      assert.equal(await first.stop('SIGKILL'), 'SIGKILL');

      const secondPort = await freePort();
      second = startService('notification-service', env(secondPort));
      await waitForHttp(`http://127.0.0.1:${secondPort}/readyz`);
      const delivery = await waitFor(
        async () => {
          const response = await fetch(`http://127.0.0.1:${secondPort}/alerts/${alert.alert_id}/deliveries`);
          const [row] = ((await response.json()) as { deliveries: { status: string; attempts: number; id: string }[] }).deliveries;
          return row?.status === 'sent' ? row : undefined;
        },
        20_000,
        'the delivery to be sent after the lease ran out',
      );
      assert.equal(delivery.attempts, 2);
      await new Promise((resolve) => setTimeout(resolve, 500));
      // Two requests reached the receiver, both the same notification: one id, one alert.
      assert.equal(receiver.requests.length, 2);
      const ids = new Set(receiver.requests.map((r) => r.headers['x-auditflow-delivery']));
      assert.deepEqual([...ids], [delivery.id]);
      for (const request of receiver.requests) {
        assert.ok(verifyWebhookSignature(SECRET, request));
        assert.deepEqual((request.json as WebhookBody).alerts.map((a) => a.delivery_id), [delivery.id]);
      }
    } finally {
      if (first.child.exitCode === null) await first.stop('SIGKILL');
      if (second) await second.stop('SIGTERM');
      await publisher.close();
      await deleteQueues([queue]);
      await receiver.down();
    }
  });

  test('two replicas on one database never send the same delivery twice', async () => {
    const receiver = await HttpReceiver.start();
    // A slow receiver keeps claims open while the other replica polls.
    receiver.respond = () => new Promise((resolve) => setTimeout(() => resolve(200), 5));
    const file = join(dir, 'replicas.yaml');
    await writeFile(file, webhookYaml(receiver.url));
    const env = { OUTPUTS_FILE: file, OUTBOX_POLL_MS: '10', OUTBOX_LEASE_MS: '30000', OUTBOX_BATCH_SIZE: '5' };
    const replicas: Harness[] = [await startHarness(db, { env }), await startHarness(db, { env })];
    try {
      const alerts = Array.from({ length: 80 }, () => makeAlert());
      await Promise.all(
        alerts.map((alert, index) => {
          const replica = replicas[index % 2]!;
          return replica.broker.publish(replica.queue, { body: alert, messageId: alert.alert_id });
        }),
      );
      await waitFor(() => receiver.requests.length >= alerts.length || undefined, 30_000, 'every notification');
      await new Promise((resolve) => setTimeout(resolve, 500));
      const sent = receiver.requests.flatMap((r) => (r.json as WebhookBody).alerts.map((a) => a.alert.alert_id));
      assert.equal(sent.length, alerts.length);
      assert.equal(new Set(sent).size, alerts.length);
      const perReplica = await Promise.all(
        replicas.map(async (replica) => {
          const text = await replica.handle.registry.metrics();
          const line = text.split('\n').find((l) => l.startsWith('notification_deliveries_total{') && l.includes('outcome="sent"'));
          return line === undefined ? 0 : Number(line.split(' ').pop());
        }),
      );
      assert.equal(perReplica[0]! + perReplica[1]!, alerts.length);
      assert.ok(perReplica.every((n) => n > 0), `both replicas sent: ${perReplica.join(', ')}`);
    } finally {
      for (const replica of replicas) await replica.stop();
      await receiver.down();
    }
  });
});
