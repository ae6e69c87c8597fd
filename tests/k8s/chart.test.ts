// Behaviour of the charts beyond "it renders": schemas, generated files kept in sync,
// secret wiring across subcharts, RabbitMQ least privilege, helm tests, NOTES and rollouts.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import {
  APP_CHARTS,
  CHART,
  HELM,
  OVERLAYS,
  type K8sObject,
  REPO,
  type Rendered,
  SUBCHARTS,
  byKind,
  find,
  helm,
  helmResult,
  helmTemplate,
  kustomize,
  podTemplateOf,
} from './lib/render.ts';

const run = promisify(execFile);
const NODE = process.execPath;
let defaults: Rendered;

before(async () => {
  defaults = await helmTemplate({});
});

function secretData(objects: K8sObject[], name: string): Record<string, string> {
  const secret = find(objects, 'Secret', name);
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

function containerEnv(obj: K8sObject): { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] {
  return (podTemplateOf(obj)?.spec.containers[0]?.env ?? []) as { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
}

describe('values.schema.json', () => {
  test('rejects a wrong type and an unknown key, in the umbrella and in every subchart', async () => {
    const cases: { chart: string; set: string; expect: RegExp }[] = [
      { chart: CHART, set: 'unknownKey=1', expect: /Additional property unknownKey is not allowed/ },
      { chart: CHART, set: 'pipelineTest.timeoutSeconds=soon', expect: /timeoutSeconds: Invalid type/ },
      { chart: CHART, set: 'audit-log-analysis.imagee.tag=1', expect: /Additional property imagee is not allowed/ },
    ];
    for (const sub of SUBCHARTS) {
      const dir = join(CHART, 'charts', sub);
      cases.push({ chart: dir, set: 'image.pullPolicy=Sometimes', expect: /pullPolicy/ });
      cases.push({ chart: dir, set: 'resources.requests.gpu=1', expect: /Additional property gpu is not allowed/ });
      cases.push({ chart: dir, set: 'podDisruptionBudget.maxUnavailable=true', expect: /maxUnavailable: Invalid type/ });
      // Typos inside Kubernetes objects and globals: the schemas are derived from the API models.
      cases.push({ chart: dir, set: 'securityContext.runAsNonroot=true', expect: /Additional property runAsNonroot is not allowed/ });
      cases.push({ chart: dir, set: 'securityContext.capabilities.dropp={ALL}', expect: /Additional property dropp is not allowed/ });
      cases.push({ chart: dir, set: 'podSecurityContext.fsgroup=1', expect: /Additional property fsgroup is not allowed/ });
      cases.push({ chart: dir, set: 'affinity.nodeAfinity.x=1', expect: /Additional property nodeAfinity is not allowed/ });
      cases.push({ chart: dir, set: 'global.environmnet=dev', expect: /Additional property environmnet is not allowed/ });
    }
    cases.push({ chart: CHART, set: 'global.imageRegistryy=r.example', expect: /Additional property imageRegistryy is not allowed/ });
    cases.push({ chart: CHART, set: 'global.externalRedis.hots=r', expect: /Additional property hots is not allowed/ });
    cases.push({ chart: CHART, set: 'audit-log-analysis.env.LOG_LEVL=debug', expect: /LOG_LEVL/ });
    for (const sub of APP_CHARTS) {
      cases.push({ chart: join(CHART, 'charts', sub), set: 'env.LOG_LEVL=debug', expect: /LOG_LEVL/ });
      cases.push({ chart: join(CHART, 'charts', sub), set: 'replicaCount=two', expect: /replicaCount: Invalid type/ });
      cases.push({ chart: join(CHART, 'charts', sub), set: 'image.tag=latest', expect: /image\.tag/ });
    }
    const results = await Promise.all(cases.map((c) => helmResult(['template', 'x', c.chart, '--set', c.set])));
    results.forEach((r, i) => {
      const c = cases[i]!;
      assert.equal(r.ok, false, `${c.chart} --set ${c.set} was accepted`);
      assert.match(r.output, c.expect, `${c.chart} --set ${c.set}`);
    });
  });

  test('every schema is generated from the current values.yaml, and every value is documented', async () => {
    // The generator refuses a values key without an `## @param` line, so this also proves the documentation is complete.
    const { stdout, stderr } = await run(NODE, ['k8s/charts/tools/values-schema.mjs', '--check'], { cwd: REPO }).catch((e: { stdout: string; stderr: string }) => {
      assert.fail(`stale or undocumented values:\n${e.stdout}${e.stderr}`);
    });
    assert.equal(`${stdout}${stderr}`, '');
  });

  test('the generator notices an undocumented key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-schema-'));
    try {
      cpSync(join(CHART, 'charts', 'redis'), join(dir, 'redis'), { recursive: true });
      const values = readFileSync(join(dir, 'redis', 'values.yaml'), 'utf8');
      writeFileSync(join(dir, 'redis', 'values.yaml'), `${values}\nundocumented: true\n`);
      const mod = (await import(join(REPO, 'k8s/charts/tools/values-schema.mjs'))) as { buildSchema: (dir: string) => unknown };
      assert.throws(() => mod.buildSchema(join(dir, 'redis')), /undocumented: no @param line/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('generated and copied files stay in sync', () => {
  test('every chart takes its shared templates from the auditflow-common library, vendored and current', async () => {
    const library = parse(readFileSync(join(REPO, 'k8s', 'charts', 'auditflow-common', 'Chart.yaml'), 'utf8')) as { type: string; version: string };
    assert.equal(library.type, 'library');
    for (const dir of [CHART, ...SUBCHARTS.map((sub) => join(CHART, 'charts', sub))]) {
      const chart = parse(readFileSync(join(dir, 'Chart.yaml'), 'utf8')) as { dependencies?: { name: string; version: string; repository: string }[] };
      const dep = chart.dependencies?.find((d) => d.name === 'auditflow-common');
      assert.ok(dep, `${dir} does not depend on auditflow-common`);
      assert.equal(dep.version, library.version);
      assert.match(dep.repository, /^file:\/\/(\.\.\/)+auditflow-common$/);
      const templates = readdirSync(join(dir, 'templates'));
      assert.ok(!templates.includes('_common.tpl') && !templates.includes('_app.tpl'), `${dir} keeps its own copy of the shared helpers`);
    }
    await run(NODE, ['k8s/charts/tools/vendor-library.mjs', '--check'], { cwd: REPO }).catch((e: { stderr: string }) => assert.fail(`run vendor-library.mjs:\n${e.stderr}`));
    // Each application chart's workload files are one include of the library's manifest.
    for (const sub of APP_CHARTS) {
      assert.equal(readFileSync(join(CHART, 'charts', sub, 'templates', 'deployment.yaml'), 'utf8'), '{{- include "auditflow.app.deployment" . }}\n');
    }
  });

  test('the vendoring check notices a library change', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'af-lib-check-'));
    try {
      cpSync(join(REPO, 'k8s', 'charts'), join(copy, 'k8s', 'charts'), { recursive: true });
      // The generator's helper and the source of the file it copies into a chart.
      cpSync(join(REPO, 'scripts', 'lib'), join(copy, 'scripts', 'lib'), { recursive: true });
      cpSync(join(REPO, 'src', 'audit-log-analysis', 'rules'), join(copy, 'src', 'audit-log-analysis', 'rules'), { recursive: true });
      symlinkSync(join(REPO, 'node_modules'), join(copy, 'node_modules'));
      writeFileSync(join(copy, 'k8s', 'charts', 'auditflow-common', 'templates', '_common.tpl'), '{{/* changed */}}\n', { flag: 'a' });
      const result = await run(NODE, [join(copy, 'k8s', 'charts', 'tools', 'vendor-library.mjs'), '--check'], { cwd: copy, env: { ...process.env, HELM_BIN: HELM } }).then(
        () => 'current',
        (e: { stderr: string }) => e.stderr,
      );
      assert.match(result, /^k8s\/charts\/auditflow-platform\/charts\/auditflow-common-1\.0\.0\.tgz is out of date: run node k8s\/charts\/tools\/vendor-library\.mjs$/m);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  test('the analysis chart ships exactly the service default rules, and its ConfigMap carries them unchanged', () => {
    const source = readFileSync(join(REPO, 'src', 'audit-log-analysis', 'rules', 'default.yaml'), 'utf8');
    const copy = readFileSync(join(CHART, 'charts', 'audit-log-analysis', 'files', 'rules.yaml'), 'utf8');
    assert.equal(copy, source, 'run node k8s/charts/tools/vendor-library.mjs (it copies src/audit-log-analysis/rules/default.yaml to the chart)');
    const cm = find(defaults.objects, 'ConfigMap', 'afp-audit-log-analysis-rules');
    assert.equal(cm.data?.['rules.yaml']?.trimEnd(), source.trimEnd());
  });

  test('k8s/base and k8s/components are the current rendering of the chart', async () => {
    await run(NODE, ['k8s/charts/tools/render-base.mjs', '--check'], { cwd: REPO, env: { ...process.env, HELM_BIN: HELM } }).catch(
      (e: { stdout: string; stderr: string }) => assert.fail(`run node k8s/charts/tools/render-base.mjs:\n${e.stdout}${e.stderr}`),
    );
  });

  test('git ignores packaged and downloaded charts but never the platform subcharts', async () => {
    const ignored = async (path: string) =>
      run('git', ['check-ignore', '-q', '--no-index', path], { cwd: REPO }).then(
        () => true,
        () => false,
      );
    for (const sub of SUBCHARTS) assert.equal(await ignored(`k8s/charts/auditflow-platform/charts/${sub}/Chart.yaml`), false, sub);
    assert.equal(await ignored('k8s/charts/auditflow-platform/charts/some-remote-chart/Chart.yaml'), true);
    assert.equal(await ignored('k8s/charts/auditflow-platform/auditflow-platform-1.0.0.tgz'), true);
  });
});

describe('wiring across subcharts', () => {
  test('every Secret a workload reads exists in the release with that key', () => {
    const missing: string[] = [];
    for (const obj of defaults.objects) {
      const tpl = podTemplateOf(obj);
      if (!tpl) continue;
      for (const c of [...(tpl.spec.initContainers ?? []), ...tpl.spec.containers]) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (!ref) continue;
          const secret = defaults.objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
          if (!secret?.data?.[ref.key]) missing.push(`${obj.kind}/${obj.metadata.name} ${e.name} -> ${ref.name}[${ref.key}]`);
        }
      }
      for (const v of tpl.spec.volumes ?? []) {
        if (v.secret && !defaults.objects.some((o) => o.kind === 'Secret' && o.metadata.name === v.secret?.secretName)) missing.push(`${obj.metadata.name} volume ${v.name}`);
        if (v.configMap && !defaults.objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name === v.configMap?.name)) missing.push(`${obj.metadata.name} volume ${v.name}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test('service host names point at Services of the release', () => {
    const services = new Set(byKind(defaults.objects, 'Service').map((s) => s.metadata.name));
    for (const d of byKind(defaults.objects, 'Deployment')) {
      for (const e of containerEnv(d)) {
        if (e.name.endsWith('_HOST') && e.name !== 'API_HOST') assert.ok(services.has(e.value ?? ''), `${d.metadata.name} ${e.name}=${e.value}`);
      }
    }
  });

  test('the dashboard and the API share one generated token; the API accepts it', () => {
    const dashboard = containerEnv(find(defaults.objects, 'Deployment', 'afp-event-audit-dashboard')).find((e) => e.name === 'NOTIFICATION_API_TOKEN')!;
    const api = containerEnv(find(defaults.objects, 'Deployment', 'afp-notification-service')).find((e) => e.name === 'API_TOKENS')!;
    const dRef = dashboard.valueFrom!.secretKeyRef!;
    const aRef = api.valueFrom!.secretKeyRef!;
    assert.equal(dRef.name, aRef.name);
    const data = secretData(defaults.objects, aRef.name);
    assert.ok((data[dRef.key] ?? '').length >= 32);
    assert.ok((data[aRef.key] ?? '').split(',').includes(data[dRef.key] ?? '-'));
  });

  test('each broker user in the definitions has the password the service reads', () => {
    const secret = secretData(defaults.objects, 'afp-rabbitmq');
    const definitions = JSON.parse(secret['definitions.json'] ?? '{}') as { users: { name: string; password: string }[] };
    for (const name of ['afp-audit-event-generator', 'afp-audit-log-analysis', 'afp-notification-service']) {
      const env = containerEnv(find(defaults.objects, 'Deployment', name));
      const user = env.find((e) => e.name === 'RABBITMQ_USER')?.value;
      const ref = env.find((e) => e.name === 'RABBITMQ_PASS')?.valueFrom?.secretKeyRef;
      assert.ok(user && ref, name);
      assert.equal(definitions.users.find((u) => u.name === user)?.password, secret[ref.key], `${name} password`);
    }
  });

  test('explicit passwords are used, and existingSecret replaces the generated Secret', async () => {
    const r = await helmTemplate({ set: ['redis.auth.password=from-values', 'postgresql.auth.existingSecret=my-pg'] });
    assert.equal(secretData(r.objects, 'afp-redis')['password'], 'from-values');
    assert.equal(r.objects.some((o) => o.kind === 'Secret' && o.metadata.name === 'afp-postgresql'), false);
    const pg = find(r.objects, 'StatefulSet', 'afp-postgresql');
    assert.ok(JSON.stringify(pg).includes('"name":"my-pg"'));
    // The generated PostgreSQL Secret survives an uninstall: its passwords live on in the data volume.
    assert.equal(find(defaults.objects, 'Secret', 'afp-postgresql').metadata.annotations?.['helm.sh/resource-policy'], 'keep');
  });

  test('an external server replaces the in-cluster one behind the same Service name', async () => {
    const r = await helmTemplate({ set: ['postgresql.external.enabled=true', 'postgresql.external.host=db.lab.example', 'postgresql.auth.existingSecret=pg-credentials'] });
    const svc = find(r.objects, 'Service', 'afp-postgresql');
    assert.equal(svc.spec?.['type'], 'ExternalName');
    assert.equal(svc.spec?.['externalName'], 'db.lab.example');
    assert.equal(r.objects.some((o) => o.kind === 'StatefulSet' && o.metadata.name === 'afp-postgresql'), false);
    const failed = await helmResult(['template', 'afp', CHART, '--set', 'postgresql.external.enabled=true', '--set', 'postgresql.external.host=db']);
    assert.equal(failed.ok, false);
    assert.match(failed.output, /existingSecret/);
  });
});

describe('external servers (a data subchart disabled)', () => {
  const external = [
    'postgresql.enabled=false',
    'rabbitmq.enabled=false',
    'redis.enabled=false',
    'global.externalDatabase.host=db.lab.example',
    'global.externalDatabase.port=15432',
    'global.externalDatabase.existingSecret=ext-pg',
    'global.externalRabbitmq.host=mq.lab.example',
    'global.externalRabbitmq.existingSecret=ext-mq',
    'global.externalRedis.host=cache.lab.example',
    'global.externalRedis.existingSecret=ext-redis',
  ];
  let r: Rendered;
  before(async () => {
    r = await helmTemplate({ set: external });
  });

  test('no server runs, and every service connects to the external host and port', () => {
    for (const kind of ['StatefulSet', 'Service']) {
      for (const name of ['afp-postgresql', 'afp-rabbitmq', 'afp-redis']) assert.equal(r.objects.some((o) => o.kind === kind && o.metadata.name === name), false, `${kind}/${name}`);
    }
    const env = (name: string) => Object.fromEntries(containerEnv(find(r.objects, 'Deployment', name)).map((e) => [e.name, e.value ?? e.valueFrom?.secretKeyRef?.name]));
    assert.equal(env('afp-notification-service')['PG_HOST'], 'db.lab.example');
    assert.equal(env('afp-notification-service')['PG_PORT'], '15432');
    assert.equal(env('afp-notification-service')['PG_PASSWORD'], 'ext-pg');
    for (const svc of ['afp-audit-event-generator', 'afp-audit-log-analysis', 'afp-notification-service']) {
      assert.equal(env(svc)['RABBITMQ_HOST'], 'mq.lab.example', svc);
      assert.equal(env(svc)['RABBITMQ_PASS'], 'ext-mq', svc);
    }
    assert.equal(env('afp-audit-log-analysis')['REDIS_HOST'], 'cache.lab.example');
    assert.equal(env('afp-audit-log-analysis')['REDIS_PASSWORD'], 'ext-redis');
  });

  test('every Secret a pod reads is either rendered or one of the named existing Secrets', () => {
    const provided = new Set(['ext-pg', 'ext-mq', 'ext-redis']);
    for (const obj of r.objects) {
      const tpl = podTemplateOf(obj);
      if (!tpl) continue;
      for (const c of tpl.spec.containers) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (!ref || ref.optional) continue;
          assert.ok(provided.has(ref.name ?? '') || r.objects.some((o) => o.kind === 'Secret' && o.metadata.name === ref.name), `${obj.metadata.name} ${e.name} -> ${ref.name}`);
        }
      }
    }
  });

  test('the NetworkPolicies let the services reach the external ports', () => {
    const egressPorts = (name: string) => (find(r.objects, 'NetworkPolicy', name).spec as { egress: { ports?: { port: number | string }[] }[] }).egress.flatMap((e) => (e.ports ?? []).map((p) => p.port));
    assert.ok(egressPorts('afp-notification-service').includes(15432));
    assert.ok(egressPorts('afp-audit-log-analysis').includes(6379));
    assert.ok(egressPorts('afp-audit-event-generator').includes(5672));
  });

  test('the rendering is valid Kubernetes and passes the policy', async () => {
    const { validateAll } = await import('./lib/validate.ts');
    const { allPolicies } = await import('./lib/policy.ts');
    assert.deepEqual(await validateAll(r.objects), []);
    assert.deepEqual(allPolicies(r.objects), []);
  });

  test('a disabled subchart without an external host, or without its Secret, fails with the value to set', async () => {
    for (const [server, key] of [
      ['postgresql', 'externalDatabase'],
      ['rabbitmq', 'externalRabbitmq'],
      ['redis', 'externalRedis'],
    ] as const) {
      const bare = await helmResult(['template', 'afp', CHART, '--set', `${server}.enabled=false`]);
      assert.equal(bare.ok, false, server);
      assert.match(bare.output, new RegExp(`global\\.${key}\\.host`));
      const noSecret = await helmResult(['template', 'afp', CHART, '--set', `${server}.enabled=false`, '--set', `global.${key}.host=h`]);
      assert.equal(noSecret.ok, false, server);
      assert.match(noSecret.output, new RegExp(`global\\.${key}\\.existingSecret`));
    }
  });
});

describe('RabbitMQ definitions', () => {
  interface Permission {
    user: string;
    configure: string;
    write: string;
    read: string;
  }
  let defs: {
    users: { name: string; tags: string[] }[];
    permissions: Permission[];
    queues: { name: string; durable: boolean; arguments: Record<string, string> }[];
    policies: { name: string; pattern: string; definition: Record<string, unknown> }[];
  };
  before(() => {
    defs = JSON.parse(secretData(defaults.objects, 'afp-rabbitmq')['definitions.json'] ?? '{}') as typeof defs;
  });
  const can = (user: string, right: 'configure' | 'write' | 'read', resource: string) => {
    const p = defs.permissions.find((x) => x.user === user);
    assert.ok(p, `no permissions for ${user}`);
    return new RegExp(p[right]).test(resource);
  };
  const resources = ['audit_events', 'audit_alerts', 'audit_events.dlq', 'audit_alerts.dlq', 'amq.default', 'amq.topic'];
  const allowed = (user: string, right: 'configure' | 'write' | 'read') => resources.filter((r) => can(user, right, r));

  // The broker adapter declares each queue with its .dlq (issue 17: a first install was refused both).
  test('the generator may only declare audit_events and its dead-letter queue and publish through the default exchange', () => {
    assert.deepEqual(allowed('audit-event-generator', 'configure'), ['audit_events', 'audit_events.dlq']);
    assert.deepEqual(allowed('audit-event-generator', 'write'), ['amq.default']);
    assert.deepEqual(allowed('audit-event-generator', 'read'), []);
  });

  test('analysis reads audit_events and declares both queues and their dead-letter queues', () => {
    assert.deepEqual(allowed('audit-log-analysis', 'configure'), ['audit_events', 'audit_alerts', 'audit_events.dlq', 'audit_alerts.dlq']);
    assert.deepEqual(allowed('audit-log-analysis', 'write'), ['amq.default']);
    assert.deepEqual(allowed('audit-log-analysis', 'read'), ['audit_events']);
  });

  test('notification reads audit_alerts and declares audit_alerts and its dead-letter queue', () => {
    assert.deepEqual(allowed('notification-service', 'configure'), ['audit_alerts', 'audit_alerts.dlq']);
    assert.deepEqual(allowed('notification-service', 'write'), ['amq.default']);
    assert.deepEqual(allowed('notification-service', 'read'), ['audit_alerts']);
  });

  test('only the admin user is an administrator, and no guest user exists', () => {
    assert.deepEqual(defs.users.filter((u) => u.tags.includes('administrator')).map((u) => u.name), ['admin']);
    assert.equal(defs.users.some((u) => u.name === 'guest'), false);
  });

  test('queues are durable quorum queues with delivery limit, dead-lettering and a length cap', () => {
    for (const q of ['audit_events', 'audit_alerts', 'audit_events.dlq', 'audit_alerts.dlq']) {
      const queue = defs.queues.find((x) => x.name === q);
      assert.ok(queue?.durable, q);
      assert.equal(queue.arguments['x-queue-type'], 'quorum');
    }
    const policyFor = (queue: string) => defs.policies.filter((p) => new RegExp(p.pattern).test(queue));
    for (const q of ['audit_events', 'audit_alerts']) {
      const [policy, ...others] = policyFor(q);
      assert.equal(others.length, 0, `${q} matches several policies`);
      assert.equal(policy?.definition['delivery-limit'], 5);
      assert.equal(policy?.definition['dead-letter-exchange'], '');
      assert.equal(policy?.definition['dead-letter-routing-key'], `${q}.dlq`);
      assert.equal(policy?.definition['dead-letter-strategy'], 'at-least-once');
      assert.equal(policy?.definition['overflow'], 'reject-publish');
      assert.equal(typeof policy?.definition['max-length'], 'number');
      const [dlq] = policyFor(`${q}.dlq`);
      assert.equal(typeof dlq?.definition['max-length'], 'number');
    }
  });

  test('the broker loads the definitions from the Secret at boot', () => {
    const cm = find(defaults.objects, 'ConfigMap', 'afp-rabbitmq-config');
    assert.match(cm.data?.['10-auditflow.conf'] ?? '', /^load_definitions = \/etc\/rabbitmq\/definitions\/definitions\.json$/m);
    const sts = find(defaults.objects, 'StatefulSet', 'afp-rabbitmq');
    const mounts = podTemplateOf(sts)?.spec.containers[0]?.volumeMounts ?? [];
    assert.ok(mounts.some((m) => m.mountPath === '/etc/rabbitmq/definitions' && m.name === 'definitions'));
  });
});

describe('helm tests', () => {
  const hooks = () => defaults.objects.filter((o) => o.kind === 'Pod' && o.metadata.annotations?.['helm.sh/hook'] === 'test');

  test('each service has a readiness test through its Service', () => {
    for (const sub of APP_CHARTS) {
      const pod = hooks().find((p) => p.metadata.name === `afp-${sub}-test-readyz`);
      assert.ok(pod, sub);
      const svc = find(defaults.objects, 'Service', `afp-${sub}`);
      const port = (svc.spec as { ports: { name: string; port: number }[] }).ports.find((p) => p.name === 'http')!.port;
      const command = podTemplateOf(pod)!.spec.containers[0]!.command ?? [];
      assert.ok(command.includes(`http://afp-${sub}:${port}/readyz`), command.join(' '));
    }
  });

  test('the pipeline test posts the brute-force scenario and polls the notification API for its alert', () => {
    const pod = hooks().find((p) => p.metadata.name === 'afp-auditflow-platform-test-pipeline');
    assert.ok(pod);
    const c = podTemplateOf(pod)!.spec.containers[0]!;
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    assert.equal(env['GENERATOR_URL'], 'http://afp-audit-event-generator:5000');
    assert.equal(env['NOTIFICATION_URL'], 'http://afp-notification-service:8000');
    assert.match(c.image ?? '', /^docker\.io\/curlimages\/curl:\d+\.\d+\.\d+$/);
  });

  // The pod's script is run for real with sh and curl against a stand-in generator and
  // notification API: an ANLY-SEC-001 alert left by an earlier run must not satisfy it, only
  // the alert of the event it posted itself.
  async function runPipelineScript(answer: 'stale' | 'own'): Promise<{ code: number; output: string; posted: Record<string, string>[]; queries: string[] }> {
    const pod = hooks().find((p) => p.metadata.name === 'afp-auditflow-platform-test-pipeline')!;
    const c = podTemplateOf(pod)!.spec.containers[0]!;
    const posted: Record<string, string>[] = [];
    const queries: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        if (req.method === 'POST' && req.url === '/scenarios/brute-force') {
          posted.push(JSON.parse(body || '{}') as Record<string, string>);
          res.statusCode = 202;
          res.end(JSON.stringify({ scenario: 'brute-force', events: ['e1'], expected_rules: ['ANLY-SEC-001'] }));
          return;
        }
        const url = new URL(req.url ?? '/', 'http://x');
        if (req.method === 'GET' && url.pathname === '/alerts') {
          queries.push(url.search);
          const host = answer === 'own' ? (posted[0]?.['host'] ?? 'none') : 'prod-web-01';
          const alerts = answer === 'stale' || url.searchParams.get('host') === host ? [{ id: 'a1', rule_id: 'ANLY-SEC-001', server_hostname: host }] : [];
          res.end(JSON.stringify({ alerts }));
          return;
        }
        res.statusCode = 404;
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const [shell, flags, script] = c.command as [string, string, string];
      const child = spawn(shell, [flags, script], {
        env: { PATH: process.env['PATH'] ?? '', GENERATOR_URL: `http://127.0.0.1:${port}`, NOTIFICATION_URL: `http://127.0.0.1:${port}`, TIMEOUT_SECONDS: '4', NOTIFICATION_API_TOKEN: 't' },
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        output += d.toString();
      });
      const code = await new Promise<number>((resolve) => child.on('close', (n) => resolve(n ?? -1)));
      return { code, output, posted, queries };
    } finally {
      server.close();
    }
  }

  test('the pipeline test is not satisfied by an old ANLY-SEC-001 alert', async () => {
    const { code, output } = await runPipelineScript('stale');
    assert.notEqual(code, 0, output);
  });

  test('the pipeline test posts a unique host and waits for exactly that alert', async () => {
    const first = await runPipelineScript('own');
    assert.equal(first.code, 0, first.output);
    const host = first.posted[0]?.['host'] ?? '';
    assert.match(host, /^helm-test-[0-9a-f]{8,}$/);
    assert.ok(first.queries.every((q) => q.includes('rule_id=ANLY-SEC-001') && q.includes(`host=${host}`)), first.queries.join(' '));
    const second = await runPipelineScript('own');
    assert.notEqual(second.posted[0]?.['host'], host, 'every run posts its own host');
  });

  test('test pods can reach the services through their NetworkPolicies', () => {
    for (const sub of ['audit-event-generator', 'notification-service']) {
      const policy = find(defaults.objects, 'NetworkPolicy', `afp-${sub}`);
      assert.ok(JSON.stringify(policy.spec).includes('"auditflow.io/api-client":"true"'), sub);
    }
    for (const pod of hooks()) assert.equal(pod.metadata.labels?.['auditflow.io/api-client'], 'true', pod.metadata.name);
  });
});

describe('network flows', () => {
  const ingressPeers = (name: string) => {
    const policy = find(defaults.objects, 'NetworkPolicy', name);
    return ((policy.spec?.['ingress'] ?? []) as { from?: { podSelector?: { matchLabels?: Record<string, string> } }[] }[]).flatMap((rule) =>
      (rule.from ?? []).map((peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name']).filter(Boolean),
    );
  };

  test('only the services that use a server may reach it', () => {
    assert.deepEqual(ingressPeers('afp-postgresql'), ['notification-service']);
    assert.deepEqual(ingressPeers('afp-redis'), ['audit-log-analysis']);
    assert.deepEqual(ingressPeers('afp-rabbitmq').sort(), ['audit-event-generator', 'audit-ingest', 'audit-log-analysis', 'notification-service']);
    assert.deepEqual(ingressPeers('afp-notification-service'), ['event-audit-dashboard']);
  });

  test('servers have no egress at all, and the dashboard may only call the notification API', () => {
    for (const name of ['afp-postgresql', 'afp-redis', 'afp-rabbitmq']) assert.deepEqual(find(defaults.objects, 'NetworkPolicy', name).spec?.['egress'], [], name);
    const egress = find(defaults.objects, 'NetworkPolicy', 'afp-event-audit-dashboard').spec?.['egress'] as { to?: unknown[]; ports: { port: number }[] }[];
    const targets = egress.map((rule) => JSON.stringify(rule.to)).filter((t) => !t.includes('kube-dns'));
    assert.equal(targets.length, 1);
    assert.match(targets[0] ?? '', /notification-service/);
  });
});

describe('rollouts and scaling', () => {
  const annotation = (r: Rendered, kind: string, name: string, key: string) => podTemplateOf(find(r.objects, kind, name))?.annotations[key];

  test('changing the rules or the broker topology changes the pod checksum, so pods roll', async () => {
    const changed = await helmTemplate({ set: ['audit-log-analysis.rules.content=title: x', 'rabbitmq.definitions.deliveryLimit=7'] });
    assert.notEqual(annotation(changed, 'Deployment', 'afp-audit-log-analysis', 'checksum/config'), annotation(defaults, 'Deployment', 'afp-audit-log-analysis', 'checksum/config'));
    assert.notEqual(annotation(changed, 'StatefulSet', 'afp-rabbitmq', 'checksum/topology'), annotation(defaults, 'StatefulSet', 'afp-rabbitmq', 'checksum/topology'));
    const again = await helmTemplate({});
    assert.equal(annotation(again, 'Deployment', 'afp-audit-log-analysis', 'checksum/config'), annotation(defaults, 'Deployment', 'afp-audit-log-analysis', 'checksum/config'));
  });

  test('images default to the chart appVersion and can be pinned by digest', async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const r = await helmTemplate({ set: [`audit-event-generator.image.digest=${digest}`] });
    assert.equal(podTemplateOf(find(defaults.objects, 'Deployment', 'afp-audit-log-analysis'))?.spec.containers[0]?.image, 'docker.io/auditflow/audit-log-analysis:v1.0.0');
    assert.equal(podTemplateOf(find(r.objects, 'Deployment', 'afp-audit-event-generator'))?.spec.containers[0]?.image, `docker.io/auditflow/audit-event-generator:v1.0.0@${digest}`);
  });

  test('global.imageRegistry moves every image, and imageRepositoryPrefix the AuditFlow ones', async () => {
    const r = await helmTemplate({ set: ['global.imageRegistry=registry.lab.example:5000', 'global.imageRepositoryPrefix=homelab'] });
    const images = r.objects.flatMap((o) => {
      const tpl = podTemplateOf(o);
      return tpl ? [...(tpl.spec.initContainers ?? []), ...tpl.spec.containers].map((c) => [o.metadata.name, c.image ?? ''] as const) : [];
    });
    assert.ok(images.length >= 12, `${images.length} images`);
    for (const [owner, image] of images) assert.ok(image.startsWith('registry.lab.example:5000/'), `${owner}: ${image}`);
    for (const sub of APP_CHARTS) {
      const image = podTemplateOf(find(r.objects, 'Deployment', `afp-${sub}`))?.spec.containers[0]?.image;
      assert.equal(image, `registry.lab.example:5000/homelab/${sub}:v1.0.0`);
    }
    for (const sub of APP_CHARTS) {
      const solo = await helmTemplate({ chart: join(CHART, 'charts', sub), release: 'solo', set: ['global.imageRegistry=r.example', 'global.imageRepositoryPrefix=o'] });
      assert.equal(podTemplateOf(find(solo.objects, 'Deployment', `solo-${sub}`))?.spec.containers[0]?.image, `r.example/o/${sub}:v1.0.0`);
    }
  });

  test('KEDA scales analysis on the input queue, and excludes an HPA', async () => {
    const r = await helmTemplate({ set: ['audit-log-analysis.keda.enabled=true'] });
    const so = find(r.objects, 'ScaledObject', 'afp-audit-log-analysis');
    const trigger = (so.spec as { triggers: { type: string; metadata: Record<string, string> }[] }).triggers[0]!;
    assert.equal(trigger.type, 'rabbitmq');
    assert.equal(trigger.metadata['queueName'], 'audit_events');
    assert.equal(find(r.objects, 'Deployment', 'afp-audit-log-analysis').spec?.['replicas'], undefined);
    const both = await helmResult(['template', 'afp', CHART, '--set', 'audit-log-analysis.keda.enabled=true', '--set', 'audit-log-analysis.autoscaling.enabled=true']);
    assert.equal(both.ok, false);
    assert.match(both.output, /mutually exclusive/);
  });

  test('the overlays run every third-party image by digest', async () => {
    for (const overlay of OVERLAYS) {
      const r = await kustomize(join(REPO, 'k8s', 'overlays', overlay));
      const images = new Set<string>();
      for (const object of r.objects) {
        const spec = podTemplateOf(object)?.spec;
        for (const container of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) images.add(container.image ?? '');
      }
      const thirdParty = [...images].filter((image) => !image.startsWith('docker.io/auditflow/'));
      assert.ok(thirdParty.length >= 5, `${overlay}: ${[...images].join(', ')}`);
      for (const image of thirdParty) assert.match(image, /:[\w.-]+@sha256:[0-9a-f]{64}$/, `${overlay}: ${image}`);
    }
  });

  test('k8s/images.yaml is the one source of every third-party image, on the Helm path and in the overlays', async () => {
    await run(NODE, ['k8s/charts/tools/sync-images.mjs', '--check'], { cwd: REPO }).catch((e: { stderr: string }) => assert.fail(`run sync-images.mjs:\n${e.stderr}`));
    const list = parse(readFileSync(join(REPO, 'k8s', 'images.yaml'), 'utf8')) as Record<string, { registry: string; repository: string; tag: string; digest: string }>;
    const expected = new Map(Object.values(list).map((i) => [i.repository, `${i.registry}/${i.repository}:${i.tag}${i.digest ? `@${i.digest}` : ''}`]));
    const renders: Rendered[] = [defaults, ...(await Promise.all(['dev', 'prod'].map((env) => helmTemplate({ valuesFiles: [join(CHART, `values-${env}.yaml`)] }))))];
    for (const overlay of OVERLAYS) {
      renders.push(await kustomize(join(REPO, 'k8s', 'overlays', overlay)));
      const kustomization = parse(readFileSync(join(REPO, 'k8s', 'overlays', overlay, 'kustomization.yaml'), 'utf8')) as { images: { name: string }[] };
      for (const entry of kustomization.images) assert.match(entry.name, /\/auditflow\//, `${overlay} overrides the third-party image ${entry.name}`);
    }
    let seen = 0;
    for (const r of renders) {
      for (const object of r.objects) {
        const spec = podTemplateOf(object)?.spec;
        for (const c of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
          const image = c.image ?? '';
          if (/\/auditflow\//.test(image)) continue;
          const repository = [...expected.keys()].find((repo) => image.includes(`/${repo}:`));
          assert.ok(repository, `${r.source}: ${image} is not in k8s/images.yaml`);
          assert.equal(image, expected.get(repository), `${r.source}: ${object.metadata.name}`);
          seen++;
        }
      }
    }
    assert.ok(seen >= 25, `${seen} third-party containers checked`);
  });

  test('a Kustomize promotion pins the overlay images by digest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-promote-'));
    try {
      const digest = `sha256:${'cd'.repeat(32)}`;
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ${relative(dir, join(REPO, 'k8s', 'overlays', 'prod'))}\nimages:\n  - name: docker.io/auditflow/audit-log-analysis\n    digest: ${digest}\n`,
      );
      const r = await kustomize(dir);
      const image = podTemplateOf(find(r.objects, 'Deployment', 'afp-audit-log-analysis'))?.spec.containers[0]?.image ?? '';
      assert.ok(image.endsWith(`@${digest}`), image);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('NOTES.txt', () => {
  test('renders real next steps for the release', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-notes-'));
    try {
      // helm template never prints NOTES, so render it through a throwaway copy as ConfigMap data.
      cpSync(CHART, join(dir, 'chart'), { recursive: true });
      const notes = readFileSync(join(dir, 'chart', 'templates', 'NOTES.txt'), 'utf8');
      rmSync(join(dir, 'chart', 'templates', 'NOTES.txt'));
      writeFileSync(join(dir, 'chart', 'templates', '_notes.tpl'), `{{- define "zz.notes" -}}\n${notes}\n{{- end -}}\n`);
      writeFileSync(join(dir, 'chart', 'templates', 'zz-notes.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include "zz.notes" . | toJson }}\n');
      const out = await helm(['template', 'afp', join(dir, 'chart'), '-n', 'dev', '--show-only', 'templates/zz-notes.yaml']);
      const text = (parse(out) as { data: { notes: string } }).data.notes;
      assert.match(text, /helm test afp -n dev --logs/);
      assert.match(text, /http:\/\/<any-node-ip>:30080\//);
      assert.match(text, /curl -X POST .* http:\/\/localhost:5000\/scenarios\/brute-force/);
      assert.match(text, /get secret afp-notification-service-api-tokens/);
      assert.doesNotMatch(text, /<no value>/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('every chart has its own NOTES.txt and .helmignore', () => {
    for (const sub of SUBCHARTS) {
      const files = readdirSync(join(CHART, 'charts', sub), { withFileTypes: true }).map((e) => e.name);
      assert.ok(files.includes('.helmignore'), sub);
      assert.ok(readdirSync(join(CHART, 'charts', sub, 'templates')).includes('NOTES.txt'), sub);
    }
  });
});

describe('k8s/base/create-secrets.sh', () => {
  // A stand-in kubectl that records what the script asks for; `get` fails unless EXISTING lists the name.
  const fakeKubectl = `#!/bin/sh
if [ "$3" = get ]; then
  case " $EXISTING " in *" $5 "*) exit 0 ;; esac
  exit 1
fi
if [ "$3" = create ]; then
  cat >> "$OUT"
  echo --- >> "$OUT"
  exit 0
fi
exit 2
`;

  async function runScript(existing: string): Promise<K8sObject[]> {
    const dir = mkdtempSync(join(tmpdir(), 'af-secrets-'));
    try {
      writeFileSync(join(dir, 'kubectl'), fakeKubectl, { mode: 0o755 });
      const out = join(dir, 'created.yaml');
      writeFileSync(out, '');
      await run('bash', [join(REPO, 'k8s', 'base', 'create-secrets.sh'), 'preprod'], {
        cwd: REPO,
        env: { ...process.env, HELM: HELM, KUBECTL: join(dir, 'kubectl'), OUT: out, EXISTING: existing },
      });
      return readFileSync(out, 'utf8')
        .split(/^---$/m)
        .map((doc) => parse(doc) as K8sObject | null)
        .filter((o): o is K8sObject => Boolean(o));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('passes shellcheck', async () => {
    await run('shellcheck', [join(REPO, 'k8s', 'base', 'create-secrets.sh')]);
  });

  test('creates every Secret the base references, with every key it reads', async () => {
    const created = await runScript('');
    const base = await kustomize(join(REPO, 'k8s', 'base'));
    const needed = new Map<string, Set<string>>();
    for (const obj of base.objects) {
      const tpl = podTemplateOf(obj);
      for (const c of tpl?.spec.containers ?? []) {
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref?.name) needed.set(ref.name, (needed.get(ref.name) ?? new Set()).add(ref.key));
        }
      }
      for (const v of tpl?.spec.volumes ?? []) {
        const secretName = v.secret?.secretName;
        if (secretName) for (const item of v.secret?.items ?? []) needed.set(secretName, (needed.get(secretName) ?? new Set()).add(item.key));
      }
    }
    assert.equal(needed.size, 4);
    for (const [name, keys] of needed) {
      const secret = created.find((o) => o.kind === 'Secret' && o.metadata.name === name);
      assert.ok(secret, `create-secrets.sh does not create ${name}`);
      for (const key of keys) assert.ok(secret.data?.[key], `${name} lacks ${key}`);
      assert.equal(secret.metadata.namespace, 'preprod');
    }
  });

  test('never replaces a Secret that already exists', async () => {
    const created = await runScript('afp-postgresql afp-rabbitmq');
    assert.deepEqual(created.map((o) => o.metadata.name).sort(), ['afp-audit-ingest-tls', 'afp-audit-ingest-tokens', 'afp-notification-service-api-tokens', 'afp-redis']);
  });
});
