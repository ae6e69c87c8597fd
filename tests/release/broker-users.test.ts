// The release's own RabbitMQ users, loaded from the rendered definitions into a fresh
// vhost, must be able to run what each service runs at start: the shared broker adapter
// declares every queue of the service (and its dead-letter queue), then the service
// dead-letters into those queues. A first install failed exactly here (issue 17:
// ACCESS_REFUSED on audit_events.dlq / audit_alerts.dlq) while tests connected as guest.
// Fast, engine-free companion of release.test.ts, for every values file and overlay.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { AmqpBroker, EnvReader, readRabbitConfig } from '@auditflow/common';
import { ALL_INPUTS, deployments, inputName, ReleaseServers, renderRelease } from './lib/release.ts';


// The six inputs are prepared at once: importing definitions and dropping users is slow
// per call, not heavy.
const prepared = new Map<string, Promise<ReleaseServers>>();
before(() => {
  for (const input of ALL_INPUTS) {
    prepared.set(
      inputName(input),
      renderRelease(input).then(async (release) => {
        const servers = new ReleaseServers(release);
        await servers.loadRabbitDefinitions();
        return servers;
      }),
    );
  }
});
after(async () => {
  await Promise.all([...prepared.values()].map((p) => p.then((s) => s.cleanup(), () => {})));
});

for (const input of ALL_INPUTS) {
  describe(`${inputName(input)}: the chart's RabbitMQ users run their services' start-up`, () => {
    test('every Deployment with a broker user declares its queues and dead-letter queues, and dead-letters into them', async () => {
      const servers = await prepared.get(inputName(input))!;
      const problems: string[] = [];
      const users = deployments(servers.release).filter((w) => w.template.spec.containers.some((c) => c.env?.some((e) => e.name === 'RABBITMQ_USER')));
      assert.equal(users.length, 4, 'generator, analysis, notification and ingest each have a broker user');
      for (const workload of users) {
        const container = workload.template.spec.containers[0]!;
        const env = servers.envOf(container);
        env['RABBITMQ_HOST'] = '127.0.0.1';
        const config = readRabbitConfig(new EnvReader(env), 10);
        const queues = [env['RABBITMQ_QUEUE'], env['RABBITMQ_ALERT_QUEUE']].filter((q): q is string => q !== undefined);
        const broker = new AmqpBroker({ url: config.url ?? '', logger: pino({ level: 'silent' }), connectionName: `release-test ${workload.name}`, queueType: config.queueType });
        try {
          await broker.declareQueues(queues);
          for (const queue of queues) await broker.publish(`${queue}.dlq`, { body: { probe: workload.name }, messageId: `probe-${workload.name}` });
        } catch (error) {
          const e = error as { message: string; cause?: { message?: string } };
          problems.push(`${workload.name} as ${env['RABBITMQ_USER']}: ${e.message}${e.cause?.message ? ` (${e.cause.message})` : ''}`);
        } finally {
          await broker.close().catch(() => {});
        }
      }
      assert.deepEqual(problems, []);
    });
  });
}
