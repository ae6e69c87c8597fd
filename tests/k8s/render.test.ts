// Every chart and overlay renders, every object is valid Kubernetes 1.32 (unknown fields
// fail), and everything rendered passes the production policy.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { allPolicies, hardening, imagePinning, networkPolicyCoverage, resourcesAndProbes } from './lib/policy.ts';
import {
  CHART,
  ENVIRONMENTS,
  OVERLAYS,
  REPO,
  type Rendered,
  SUBCHARTS,
  byKind,
  helmTemplate,
  kustomize,
  subchartValues,
  valuesFile,
} from './lib/render.ts';
import { validateAll } from './lib/validate.ts';

const umbrella = new Map<string, Rendered>();
const standalone = new Map<string, Rendered>();
const kustomized = new Map<string, Rendered>();
// Optional features that no environment file turns on still have to render valid objects.
let optionalFeatures: Rendered;

before(async () => {
  const jobs: Promise<void>[] = [];
  for (const env of ['default', ...ENVIRONMENTS]) {
    jobs.push(
      helmTemplate({ namespace: env === 'default' ? 'auditflow' : env, valuesFiles: env === 'default' ? [] : [valuesFile(env)] }).then((r) => {
        umbrella.set(env, r);
      }),
    );
  }
  for (const chart of SUBCHARTS) {
    for (const env of ['default', ...ENVIRONMENTS]) {
      jobs.push(
        (async () => {
          const values = env === 'default' ? undefined : subchartValues(env, chart);
          try {
            const r = await helmTemplate({ chart: join(CHART, 'charts', chart), release: 'solo', valuesFiles: values ? [values.file] : [] });
            standalone.set(`${chart}/${env}`, r);
          } finally {
            values?.cleanup();
          }
        })(),
      );
    }
  }
  for (const dir of ['k8s/base', ...OVERLAYS.map((o) => `k8s/overlays/${o}`)]) {
    jobs.push(
      kustomize(join(REPO, dir)).then((r) => {
        kustomized.set(dir, r);
      }),
    );
  }
  jobs.push(
    helmTemplate({
      set: [
        'audit-log-analysis.keda.enabled=true',
        'audit-event-generator.autoscaling.enabled=true',
        'notification-service.autoscaling.enabled=true',
        'notification-service.migrations.job.enabled=true',
        'event-audit-dashboard.ingress.enabled=true',
        'event-audit-dashboard.ingress.clusterIssuer=lab-ca',
        'audit-log-analysis.serviceMonitor.enabled=true',
        'rabbitmq.serviceMonitor.enabled=true',
        'postgresql.persistence.enabled=false',
        'rabbitmq.persistence.enabled=false',
      ],
    }).then((r) => {
      optionalFeatures = r;
    }),
  );
  await Promise.all(jobs);
});

function everyRender(): Rendered[] {
  return [...umbrella.values(), ...standalone.values(), ...kustomized.values(), optionalFeatures];
}

describe('schema validation against Kubernetes 1.32', () => {
  test('every rendered object of every chart, values file and overlay is valid', async () => {
    const problems: string[] = [];
    for (const r of everyRender()) {
      assert.ok(r.objects.length > 0, `${r.source} rendered nothing`);
      for (const p of await validateAll(r.objects)) problems.push(`${r.source}: ${p}`);
    }
    assert.deepEqual(problems, []);
  });

  test('the validator rejects unknown fields and wrong types (it can fail)', async () => {
    const deployment = structuredClone(byKind(umbrella.get('default')!.objects, 'Deployment')[0]!);
    const spec = deployment.spec as { replicas: unknown; template: { spec: { containers: Record<string, unknown>[] } } };
    spec.template.spec.containers[0]!['livenessprobe'] = { httpGet: { path: '/healthz', port: 'http' } };
    spec.replicas = 'two';
    const problems = await validateAll([deployment]);
    assert.ok(problems.some((p) => p.includes('livenessprobe: unknown field')), problems.join('\n'));
    assert.ok(problems.some((p) => p.includes('replicas must be integer')), problems.join('\n'));
  });

  test('custom resources get a strict check too', async () => {
    const monitor = structuredClone(byKind(optionalFeatures.objects, 'ServiceMonitor')[0]!);
    (monitor.spec as Record<string, unknown>)['endpoint'] = [];
    assert.ok((await validateAll([monitor])).length > 0);
    assert.equal(byKind(optionalFeatures.objects, 'ScaledObject').length, 1);
  });
});

describe('production policy', () => {
  test('umbrella chart with every values file', () => {
    for (const [env, r] of umbrella) assert.deepEqual(allPolicies(r.objects, { requireAvailability: true }), [], `${env}: ${r.source}`);
  });

  test('each subchart on its own, with every values file', () => {
    for (const [key, r] of standalone) assert.deepEqual(allPolicies(r.objects, { requireAvailability: true }), [], `${key}: ${r.source}`);
  });

  test('optional features (KEDA, HPA, Ingress, migration Job, ServiceMonitors, no persistence)', () => {
    assert.deepEqual(allPolicies(optionalFeatures.objects, { requireAvailability: true }), []);
  });

  test('k8s/base and every overlay', () => {
    for (const [dir, r] of kustomized) {
      assert.deepEqual(allPolicies(r.objects, { requireAvailability: dir !== 'k8s/base' }), [], r.source);
    }
  });

  test('the policy catches latest tags, missing limits and probes, root, privilege and hostPath', () => {
    const deployment = structuredClone(byKind(umbrella.get('default')!.objects, 'Deployment')[0]!);
    const pod = (deployment.spec as { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } }).template.spec;
    const container = pod.containers[0]!;
    container['image'] = 'docker.io/auditflow/audit-event-generator:latest';
    container['resources'] = { requests: { cpu: '10m' } };
    delete container['readinessProbe'];
    container['securityContext'] = { privileged: true, runAsUser: 0 };
    pod['volumes'] = [{ name: 'host', hostPath: { path: '/' } }];
    const problems = [...imagePinning([deployment]), ...resourcesAndProbes([deployment]), ...hardening([deployment])];
    for (const expected of ['latest tag', 'no limits.memory', 'no readinessProbe', 'privileged', 'uid 0', 'hostPath', 'root filesystem is writable']) {
      assert.ok(problems.some((p) => p.includes(expected)), `expected a violation mentioning "${expected}" in:\n${problems.join('\n')}`);
    }
    const withoutPolicies = umbrella.get('default')!.objects.filter((o) => o.kind !== 'NetworkPolicy');
    assert.ok(networkPolicyCoverage(withoutPolicies).length >= 7);
  });
});

describe('architecture details in the rendered manifests', () => {
  test('the dashboard is on NodePort 30080 by default and PostgreSQL claims 5Gi of local-path storage', () => {
    const objects = umbrella.get('default')!.objects;
    const dashboard = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'afp-event-audit-dashboard')!;
    const ports = (dashboard.spec as { type: string; ports: { nodePort?: number; port: number }[] });
    assert.equal(ports.type, 'NodePort');
    assert.equal(ports.ports[0]?.nodePort, 30080);
    const pg = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'afp-postgresql')!;
    const claim = (pg.spec as { volumeClaimTemplates: { spec: { accessModes: string[]; storageClassName: string; resources: { requests: { storage: string } } } }[] }).volumeClaimTemplates[0]!;
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
    assert.equal(claim.spec.storageClassName, 'local-path');
    assert.equal(claim.spec.resources.requests.storage, '5Gi');
  });

  test('NodePorts: every values file and overlay, one set per environment, never shared between environments', () => {
    // Kustomize merges Service ports on port *and* protocol, so a patch without `protocol` adds
    // nothing and the base NodePort stays: this reads what is really rendered.
    const nodePortsOf = (r: Rendered, prefix: string): Map<string, number> => {
      const ports = new Map<string, number>();
      for (const svc of byKind(r.objects, 'Service')) {
        const spec = svc.spec as { type?: string; ports: { name?: string; nodePort?: number }[] };
        if (spec.type !== 'NodePort') continue;
        for (const p of spec.ports) {
          assert.ok(p.nodePort, `${r.source}: ${svc.metadata.name} port ${p.name} has no fixed nodePort`);
          ports.set(`${svc.metadata.name.slice(prefix.length)}/${p.name}`, p.nodePort);
        }
      }
      return ports;
    };
    const perEnvironment = new Map<string, Map<string, number>>();
    for (const env of ENVIRONMENTS) {
      const fromHelm = nodePortsOf(umbrella.get(env)!, 'afp-');
      assert.ok(fromHelm.size > 0, `values-${env}.yaml exposes no NodePort`);
      const overlay = kustomized.get(`k8s/overlays/${env}`);
      if (overlay) {
        assert.deepEqual(Object.fromEntries(nodePortsOf(overlay, 'afp-')), Object.fromEntries(fromHelm), `overlay ${env} and values-${env}.yaml disagree`);
      }
      perEnvironment.set(env, fromHelm);
    }
    const owner = new Map<number, string>();
    for (const [env, ports] of perEnvironment) {
      for (const [where, port] of ports) {
        // One environment may use a number twice: audit-ingest's syslog is TCP and UDP on one port.
        assert.ok(!owner.has(port) || owner.get(port) === env, `NodePort ${port} is used by ${owner.get(port)} and ${env} (${where})`);
        owner.set(port, env);
      }
    }
    assert.deepEqual(Object.fromEntries(nodePortsOf(umbrella.get('default')!, 'afp-')), Object.fromEntries(perEnvironment.get('prod')!), 'the defaults are prod\'s NodePorts');
  });

  test('overlays set their namespace, environment name and replica counts', () => {
    for (const overlay of OVERLAYS) {
      const objects = kustomized.get(`k8s/overlays/${overlay}`)!.objects;
      const ns = objects.find((o) => o.kind === 'Namespace')!;
      assert.equal(ns.metadata.name, overlay);
      assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
      for (const o of objects) if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, overlay, `${o.kind}/${o.metadata.name}`);
      for (const d of byKind(objects, 'Deployment')) {
        const env = (d.spec as { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } }).template.spec.containers[0]!.env;
        assert.equal(env.find((e) => e.name === 'ENVIRONMENT')?.value, overlay, d.metadata.name);
      }
      const analysis = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'afp-audit-log-analysis')!;
      assert.equal(analysis.spec?.['replicas'], 2);
    }
  });
});
