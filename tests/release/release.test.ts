// The rendered release, run as a cluster would run it (issue 17). For every values file
// (helm template of the umbrella) and every overlay (kubectl kustomize, with the Secrets of
// k8s/base/create-secrets.sh), on the real servers of this machine and the real engine:
//   - the RabbitMQ definitions (users, rights, queues, policies) in a fresh vhost, the
//     PostgreSQL role and database from the chart's init script, redis-server from the
//     chart's config and password (all under names unique to the run, removed afterwards);
//   - every Deployment's container started from its image built from the root Dockerfile,
//     with the pod's user, read-only root, limits, env with Secrets resolved, its ConfigMap
//     and Secret volumes at their paths, and each Service name resolving to a ClusterIP
//     relayed to the pod (lib/cluster.ts);
//   - each startup, readiness and liveness probe as rendered must pass.
// Then, for the prod values and the prod overlay, the operator's smoke test: an event
// posted to the generator, a syslog line from logger(1) to audit-ingest and a Kubernetes
// audit EventList with the chart's token each become an alert in the notification API; the
// dashboard acknowledges one with the token the chart gives it; the chart's helm test pods
// pass against the running release.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import { auditEventList } from '../../src/audit-ingest/test/samples.ts';
import { baseImage, buildAllServiceImages, type BuildResult, curlImage, ensureEngine, SERVICE_IMAGES, type ServiceImage } from '../support/container-engine.ts';
import { type Backend, LocalCluster, type RunningPod } from './lib/cluster.ts';
import { ALL_INPUTS, deployments, inputName, type ReleaseInput, ReleaseServers, renderRelease, secretValue, type Workload } from './lib/release.ts';

const run = promisify(execFile);

/** The full smoke runs where an operator would run it first; every input must at least come up. */
const SMOKE = new Set(['values-prod', 'overlay-prod']);

let skipReason: string | undefined;
let images = new Map<ServiceImage, BuildResult>();
let testPodImage = '';

before(async () => {
  skipReason = await ensureEngine();
  if (skipReason !== undefined) return;
  images = await buildAllServiceImages();
  testPodImage = await curlImage(await baseImage());
});

function localImage(workload: Workload): string {
  const rendered = workload.template.spec.containers[0]?.image ?? '';
  const service = SERVICE_IMAGES.find((s) => rendered.split('@')[0]?.split(':')[0]?.endsWith(`/${s}`));
  assert.ok(service, `${workload.name}: image ${rendered} is none of the service images`);
  assert.equal(workload.app, service, `${workload.name} runs the ${service} image`);
  return images.get(service)!.ref;
}

interface Started {
  servers: ReleaseServers;
  cluster: LocalCluster;
  pods: Map<string, RunningPod>;
}

async function startRelease(input: ReleaseInput): Promise<Started> {
  const servers = new ReleaseServers(await renderRelease(input));
  const cluster = new LocalCluster({ id: servers.names.id, release: servers.release, workDir: servers.workDir() });
  const started: Started = { servers, cluster, pods: new Map() };
  try {
    await Promise.all([servers.loadRabbitDefinitions(), servers.initPostgres(), servers.startRedis()]);
    await cluster.start();
    // The StatefulSets' pods are the machine's shared servers, prepared above.
    const stateful: Record<string, Record<string, Backend>> = {
      rabbitmq: { amqp: { host: '127.0.0.1', port: 5672 } },
      postgresql: { postgresql: { host: '127.0.0.1', port: 5432 } },
      redis: { redis: { host: '127.0.0.1', port: servers.redisPort } },
    };
    await cluster.exposeServices((service, port) => {
      const app = (service.spec as { selector?: Record<string, string> }).selector?.['app.kubernetes.io/name'] ?? '';
      return stateful[app]?.[port.name ?? ''];
    });
    for (const workload of deployments(servers.release)) {
      const env = servers.envOf(workload.template.spec.containers[0]!);
      started.pods.set(workload.app, await cluster.runPod(workload, localImage(workload), env));
    }
    return started;
  } catch (error) {
    await stopRelease(started);
    throw error;
  }
}

async function stopRelease(started: Started | undefined): Promise<void> {
  if (!started) return;
  await started.cluster.stop();
  await started.servers.cleanup();
}

async function waitForProbes(started: Started, t: { diagnostic(msg: string): void }): Promise<void> {
  await Promise.all(
    [...started.pods.values()].map(async (pod) => {
      const container = pod.workload.template.spec.containers[0]!;
      const began = Date.now();
      for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
        const probe = container[kind] as IProbe | undefined;
        assert.ok(probe, `${pod.workload.name} renders a ${kind}`);
        await started.cluster.waitForProbe(pod, probe, 120_000);
      }
      t.diagnostic(`${pod.workload.name}: startup, readiness and liveness probes pass after ${((Date.now() - began) / 1000).toFixed(1)} s`);
    }),
  );
}

for (const input of ALL_INPUTS) {
  const name = inputName(input);
  describe(`${name}: the rendered release runs`, { concurrency: false }, () => {
    let started: Started | undefined;
    after(() => stopRelease(started));

    test('every Deployment starts from its image as rendered and passes its probes', async (t) => {
      if (skipReason) return t.skip(skipReason);
      started = await startRelease(input);
      assert.deepEqual([...started.pods.keys()].sort(), [...SERVICE_IMAGES].sort(), 'one Deployment per service');
      await waitForProbes(started, t);
    });

    if (!SMOKE.has(name)) return;

    test('smoke: an event posted to the generator becomes an alert in the notification API', async (t) => {
      if (skipReason) return t.skip(skipReason);
      assert.ok(started, 'the release is running');
      const user = `smoke-${started.servers.names.id}`;
      const host = `smoke-host-${started.servers.names.id}`;
      const events = Array.from({ length: 3 }, () => ({
        source_service: 'operator-smoke',
        server_hostname: host,
        event_type: 'user_login',
        severity: 'WARNING',
        user_id: user,
        action_result: 'FAILURE',
        details: { ip_address: '198.51.100.7', protocol: 'ssh' },
      }));
      const generator = started.cluster.serviceIp('afp-audit-event-generator');
      const response = await fetch(`http://${generator}:5000/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(events) });
      assert.equal(response.status, 202, await response.text());
      const alert = await waitForAlert(started, `rule_id=ANLY-SEC-001&host=${host}`);
      assert.equal(alert['alert_name'], 'Multiple Failed Login Attempts');
    });

    test('smoke: syslog lines sent by logger(1) to audit-ingest become an alert', async (t) => {
      if (skipReason) return t.skip(skipReason);
      assert.ok(started);
      const ip = `203.0.113.${1 + (randomBytes(1)[0]! % 250)}`;
      const file = join(started.servers.workDir(), 'sshd.log');
      writeFileSync(file, `${Array.from({ length: 5 }, (_, i) => `Failed password for smoke${started!.servers.names.id} from ${ip} port ${52000 + i} ssh2`).join('\n')}\n`);
      const ingest = started.cluster.serviceIp('afp-audit-ingest');
      await run('logger', ['-n', ingest, '-P', '5514', '-T', '--octet-count', '-t', 'sshd', '--id=777', '-p', 'authpriv.info', '-f', file]);
      const alert = await waitForAlert(started, 'rule_id=ANLY-SRC-003');
      assert.equal(alert['alert_name'], 'SSH Brute Force');
    });

    test("smoke: a Kubernetes audit EventList with the chart's token becomes an alert, over TLS the chart's CA verifies", async (t) => {
      if (skipReason) return t.skip(skipReason);
      assert.ok(started);
      const release = started.servers.release;
      const tokens = secretValue(release, 'afp-audit-ingest-tokens', 'tokens').trim().split(/\s+/);
      const ca = secretValue(release, 'afp-audit-ingest-tls', 'ca.crt');
      const { body, expected } = auditEventList(new Date(), `smoke-${started.servers.names.id}@example.com`);
      const ip = started.cluster.serviceIp('afp-audit-ingest');
      const servername = `afp-audit-ingest.${started.cluster.namespace}.svc`;
      const post = (token: string | undefined) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const request = https.request(
            { host: ip, port: 5002, path: '/k8s/audit', method: 'POST', ca, servername, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) } },
            (res) => {
              let text = '';
              res.on('data', (d: Buffer) => {
                text += d.toString();
              });
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
            },
          );
          request.on('error', reject);
          request.end(JSON.stringify(body));
        });
      assert.equal((await post(undefined)).status, 401, 'no token, no entry');
      const accepted = await post(tokens[0]);
      assert.ok(accepted.status >= 200 && accepted.status < 300, `${accepted.status} ${accepted.body}`);
      // `expected` names each alert as `rule id|group`; the store is this run's, so the rule id identifies it.
      for (const rule of new Set(expected.map((e) => e.split('|')[0]!))) {
        const alert = await waitForAlert(started, `rule_id=${rule}`);
        t.diagnostic(`${rule}: ${String(alert['alert_name'])}`);
      }
    });

    test('smoke: the dashboard acknowledges an alert with the token the chart gives it', async (t) => {
      if (skipReason) return t.skip(skipReason);
      assert.ok(started);
      const [alert] = await alerts(started, 'rule_id=ANLY-SEC-001');
      assert.ok(alert, 'an alert to acknowledge');
      const dashboard = started.cluster.serviceIp('afp-event-audit-dashboard');
      const origin = `http://${dashboard}`;
      const response = await fetch(`${origin}/api/alerts/${String(alert['alert_id'])}/status`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin },
        body: JSON.stringify({ status: 'acknowledged', note: 'release smoke test' }),
      });
      assert.equal(response.status, 200, await response.text());
      const [after] = await alerts(started, `rule_id=ANLY-SEC-001&status=acknowledged`);
      assert.equal(after?.['alert_id'], alert['alert_id']);
    });

    test("smoke: the chart's helm test pods pass against the running release", async (t) => {
      if (skipReason) return t.skip(skipReason);
      assert.ok(started);
      const hooks = started.servers.release.objects.filter((o) => o.kind === 'Pod' && o.metadata.annotations?.['helm.sh/hook'] === 'test');
      if (input.kind === 'overlay') {
        // Helm hooks are not part of a Kustomize rendering; the overlay is checked by the probes and the smoke above.
        assert.equal(hooks.length, 0);
        return;
      }
      assert.ok(hooks.length >= 5, 'a readiness test per service and the pipeline test');
      const { podTemplateOf } = await import('../k8s/lib/render.ts');
      for (const hook of hooks) {
        const template = podTemplateOf(hook)!;
        const workload: Workload = { kind: 'Pod', name: hook.metadata.name, app: 'helm-test', template };
        // curlimages/curl is on Docker Hub: Debian's curl on the local base stands in for it.
        const result = await started.cluster.runToCompletion(workload, testPodImage, started.servers.envOf(template.spec.containers[0]!), 300_000);
        assert.equal(result.code, 0, `${hook.metadata.name} failed:\n${result.logs}`);
        t.diagnostic(`${hook.metadata.name}: passed (${result.logs.trim().split('\n').at(-1)?.slice(0, 160)})`);
      }
    });
  });
}

async function alerts(started: Started, query: string): Promise<Record<string, unknown>[]> {
  const token = secretValue(started.servers.release, 'afp-notification-service-api-tokens', 'dashboard-token');
  const api = started.cluster.serviceIp('afp-notification-service');
  const response = await fetch(`http://${api}:8000/alerts?${query}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 200, await response.clone().text());
  const body = (await response.json()) as Record<string, unknown>[] | { items?: Record<string, unknown>[] };
  return Array.isArray(body) ? body : (body.items ?? []);
}

async function waitForAlert(started: Started, query: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const [alert] = await alerts(started, query);
    if (alert) return alert;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no alert for ${query} within 60 s`);
}
