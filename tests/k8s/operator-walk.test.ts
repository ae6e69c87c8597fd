// What an operator's first install walks into, checked on what the kit really renders and what
// Ansible really computes: image tags that the workflows push, selectors that select the pods
// they are written for, the seed's scrape label, ServiceMonitors kube-prometheus-stack picks up,
// audit-ingest's certificate for the Pis' names and addresses, and docs that name real objects.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { CHART, ENVIRONMENTS, type K8sObject, OVERLAYS, REPO, type Rendered, byKind, helmTemplate, kustomize, podTemplateOf, valuesFile } from './lib/render.ts';

const DATA_CHARTS = new Set(['postgresql', 'rabbitmq', 'redis', 'auditflow-common']);
const umbrellaChart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { appVersion: string; dependencies: { name: string }[] };
/** AuditFlow's own services: the umbrella's dependencies that are neither data servers nor the library. */
const SERVICES = umbrellaChart.dependencies.map((d) => d.name).filter((n) => !DATA_CHARTS.has(n));
const KPS_VALUES = join(REPO, 'monitoring', 'kube-prometheus-stack', 'auditflow-values.yaml');

const renders = new Map<string, Rendered>();
let kps: Rendered;

before(async () => {
  const jobs: Promise<void>[] = [];
  for (const env of ['default', ...ENVIRONMENTS]) {
    jobs.push(
      helmTemplate({ valuesFiles: env === 'default' ? [] : [valuesFile(env)] }).then((r) => {
        renders.set(`helm ${env}`, r);
      }),
    );
  }
  for (const dir of ['k8s/base', ...OVERLAYS.map((o) => `k8s/overlays/${o}`)]) {
    jobs.push(
      kustomize(join(REPO, dir)).then((r) => {
        renders.set(dir, r);
      }),
    );
  }
  jobs.push(
    helmTemplate({ valuesFiles: [valuesFile('dev'), KPS_VALUES] }).then((r) => {
      kps = r;
    }),
  );
  await Promise.all(jobs);
});

function serviceImages(objects: K8sObject[]): { service: string; image: string }[] {
  const out: { service: string; image: string }[] = [];
  for (const o of objects) {
    const pod = podTemplateOf(o);
    for (const c of [...(pod?.spec.containers ?? []), ...(pod?.spec.initContainers ?? [])]) {
      const service = SERVICES.find((s) => c.image?.split('@')[0]?.split(':')[0]?.endsWith(`/${s}`));
      if (service && c.image) out.push({ service, image: c.image });
    }
  }
  return out;
}

describe('image tags', () => {
  // What the workflows push: sha-<commit> and main (images.yml), v<semver> on a release tag (release.yml).
  const images = readFileSync(join(REPO, '.github/workflows/images.yml'), 'utf8');
  const release = readFileSync(join(REPO, '.github/workflows/release.yml'), 'utf8');
  const releaseGlob = /tags: \["([^"]+)"\]/.exec(release)?.[1] ?? '';
  const pushed = [/^sha-[0-9a-f]{7,40}$/, /^main$/, new RegExp(`^${releaseGlob.replaceAll('.', '\\.')}$`)];

  test('the workflows push sha-<commit>, main and the release tag', () => {
    assert.match(images, /:sha-\$\{\{ github\.sha \}\}/);
    assert.match(images, /\/\$\{\{ matrix\.service \}\}:main$/m);
    assert.equal(releaseGlob, 'v[0-9]+.[0-9]+.[0-9]+');
    assert.match(release, /TARGET_TAG: \$\{\{ github\.ref_name \}\}/);
  });

  test('every AuditFlow image of every values file, the base and the overlays has a tag the workflows push', () => {
    for (const [where, r] of renders) {
      const found = serviceImages(r.objects);
      assert.deepEqual([...new Set(found.map((f) => f.service))].sort(), [...SERVICES].sort(), `${where}: every service has an image`);
      for (const { image } of found) {
        const tag = /:([^:@/]+)(@sha256:[0-9a-f]{64})?$/.exec(image)?.[1] ?? '';
        assert.ok(pushed.some((p) => p.test(tag)), `${where}: ${image} has tag '${tag}', which no workflow pushes`);
      }
    }
    assert.ok(
      serviceImages(renders.get('helm default')!.objects).every((f) => f.image.endsWith(`:v${umbrellaChart.appVersion}`)),
      'the chart default is the release tag of its appVersion',
    );
  });
});

describe('selectors', () => {
  const subset = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

  test('topology spread and affinity selectors of every render select the pods they are written for', () => {
    let checked = 0;
    for (const [where, r] of renders) {
      for (const o of r.objects) {
        const pod = podTemplateOf(o);
        if (!pod) continue;
        const selectors = [
          ...(pod.spec.topologySpreadConstraints ?? []).map((t) => t.labelSelector?.matchLabels),
          ...(pod.spec.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => t.podAffinityTerm.labelSelector?.matchLabels),
          ...(pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => t.labelSelector?.matchLabels),
        ];
        for (const s of selectors) {
          assert.ok(s && subset(s, pod.labels), `${where}: ${o.kind}/${o.metadata.name} spreads over ${JSON.stringify(s)}, which its pods (${JSON.stringify(pod.labels)}) do not carry`);
          checked++;
        }
        for (const claim of ((o.spec as { volumeClaimTemplates?: { metadata?: { labels?: Record<string, string> } }[] }).volumeClaimTemplates ?? [])) {
          const instance = claim.metadata?.labels?.['app.kubernetes.io/instance'];
          if (instance) assert.equal(instance, pod.labels['app.kubernetes.io/instance'], `${where}: ${o.metadata.name} claim labels`);
        }
      }
    }
    assert.ok(checked >= 6, `only ${checked} spread selectors rendered: the prod overlay's must be among them`);
  });
});

describe('scraping', () => {
  test("every pod with prometheus.io/scrape also carries the seed's prometheus_scrape label", () => {
    for (const [where, r] of renders) {
      for (const o of r.objects) {
        const pod = podTemplateOf(o);
        if (pod?.annotations['prometheus.io/scrape'] !== 'true') continue;
        assert.equal(pod.labels['prometheus_scrape'], 'true', `${where}: ${o.kind}/${o.metadata.name}`);
      }
    }
  });

  test('prod values monitor audit-ingest like every other service', () => {
    const monitors = byKind(renders.get('helm prod')!.objects, 'ServiceMonitor').map((m) => m.metadata.name);
    for (const s of SERVICES) assert.ok(monitors.includes(`afp-${s}`), `values-prod.yaml: no ServiceMonitor for ${s} (${monitors.join(', ')})`);
  });

  test('with the kube-prometheus-stack values every scraped workload has a ServiceMonitor the stack selects, with the job the rules use', () => {
    const services = byKind(kps.objects, 'Service');
    const monitors = byKind(kps.objects, 'ServiceMonitor');
    for (const o of kps.objects) {
      const pod = podTemplateOf(o);
      if (pod?.annotations['prometheus.io/scrape'] !== 'true' || o.metadata.annotations?.['helm.sh/hook']) continue;
      const name = pod.labels['app.kubernetes.io/name'];
      const monitor = monitors.find((m) => {
        const selector = (m.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
        return Object.entries(selector).every(([k, v]) => pod.labels[k] === v);
      });
      assert.ok(monitor, `${o.kind}/${o.metadata.name} is scraped by annotation but no ServiceMonitor selects it`);
      assert.equal(monitor.metadata.labels?.['release'], 'kube-prometheus-stack', `${monitor.metadata.name}: the stack's selector label`);
      const spec = monitor.spec as { jobLabel: string; selector: { matchLabels: Record<string, string> }; endpoints: { honorLabels: boolean }[] };
      assert.equal(spec.jobLabel, 'app.kubernetes.io/name');
      assert.ok(spec.endpoints.every((e) => e.honorLabels), `${monitor.metadata.name}: keeps the services' own service label`);
      const service = services.find((s) => Object.entries(spec.selector.matchLabels).every(([k, v]) => s.metadata.labels?.[k] === v));
      assert.equal(service?.metadata.labels?.['app.kubernetes.io/name'], name, `${monitor.metadata.name}: job would not be ${name}`);
    }
  });
});

describe('Ansible platform.yml', () => {
  const digest = (c: string) => `sha256:${c.repeat(64)}`;

  test('computes values that pin all five services in the operator organisation and name every Pi in audit-ingest\'s certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-platform-values-'));
    try {
      const out = join(dir, 'values.json');
      const playbooks = join(REPO, 'infra/ansible/playbooks');
      writeFileSync(
        join(dir, 'probe.yml'),
        [
          '---',
          '- name: Probe the release values platform.yml computes',
          '  hosts: localhost',
          '  connection: local',
          '  gather_facts: false',
          `  vars_files: [${JSON.stringify(join(playbooks, 'vars/platform.yml'))}]`,
          '  tasks:',
          `    - ansible.builtin.include_tasks: ${JSON.stringify(join(playbooks, 'tasks/platform-values.yml'))}`,
          `    - ansible.builtin.copy: { content: "{{ platform_image_overrides | to_json }}", dest: ${JSON.stringify(out)}, mode: "0600" }`,
          '',
        ].join('\n'),
      );
      const digests = Object.fromEntries(SERVICES.map((s, i) => [s, digest('abcde'[i] ?? 'f')]));
      const res = spawnSync(
        'ansible-playbook',
        [join(dir, 'probe.yml'), '-e', JSON.stringify({ platform_environment: 'prod', platform_registry: 'ghcr.io', platform_image_org: 'homelab', platform_image_digests: digests })],
        { cwd: REPO, encoding: 'utf8', env: { ...process.env, ANSIBLE_NOCOLOR: '1' } },
      );
      assert.equal(res.status, 0, res.stdout + res.stderr);
      const rendered = await helmTemplate({ valuesFiles: [valuesFile('prod'), out] });
      const images = serviceImages(rendered.objects);
      assert.deepEqual([...new Set(images.map((i) => i.service))].sort(), [...SERVICES].sort());
      for (const { service, image } of images) {
        assert.equal(image, `ghcr.io/homelab/${service}:v${umbrellaChart.appVersion}@${digests[service]}`);
      }

      const inventory = parse(readFileSync(join(REPO, 'infra/ansible/inventory/hosts.yml'), 'utf8'));
      const hosts = Object.entries({ ...inventory.all.children.k3s_cluster.children.k3s_server.hosts, ...inventory.all.children.k3s_cluster.children.k3s_agents.hosts }) as [string, { ansible_host: string }][];
      const secret = rendered.objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'afp-audit-ingest-tls')!;
      const cert = new X509Certificate(Buffer.from((secret.data as Record<string, string>)['tls.crt']!, 'base64'));
      const ca = new X509Certificate(Buffer.from((secret.data as Record<string, string>)['ca.crt']!, 'base64'));
      assert.ok(cert.verify(ca.publicKey), 'signed by the CA the kubeconfig trusts');
      assert.ok(hosts.length >= 2);
      for (const [name, vars] of hosts) {
        assert.equal(cert.checkHost(name), name, `certificate names ${name}`);
        assert.equal(cert.checkIP(vars.ansible_host), vars.ansible_host, `certificate names ${vars.ansible_host}`);
      }
      assert.equal(cert.checkIP('192.168.1.250'), undefined, 'and nothing else');
      assert.ok((secret.data as Record<string, string>)['ca.key'], 'the CA key is kept to sign again when the names change');

      // The crowdsec response output's allowlist: every inventory host and the LAN ranges.
      const allowlist = (rendered.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'afp-notification-service-response-allowlist')
        ?.data as Record<string, string> | undefined)?.['allowlist.txt'];
      const entries = (allowlist ?? '').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
      for (const [, vars] of hosts) assert.ok(entries.includes(vars.ansible_host), `${vars.ansible_host} is never banned`);
      assert.ok(entries.includes('192.168.1.0/24'), 'the LAN is never banned');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('documentation names what the kit creates', () => {
  const docs = [join(REPO, 'README.md'), join(REPO, 'k8s/base/README.md'), ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(REPO, 'docs', f))];

  test('kubectl targets in the docs (deploy/, svc/, secret names) exist in the release afp', () => {
    const names = new Map<string, Set<string>>();
    for (const o of renders.get('helm default')!.objects) {
      const kind = o.kind.toLowerCase();
      if (!names.has(kind)) names.set(kind, new Set());
      names.get(kind)!.add(o.metadata.name);
    }
    const kinds: Record<string, string> = { deploy: 'deployment', deployment: 'deployment', svc: 'service', service: 'service', sts: 'statefulset', statefulset: 'statefulset', secret: 'secret' };
    const problems: string[] = [];
    for (const file of docs) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?<![\w/.-])(deploy|deployment|svc|service|sts|statefulset|secret)\/([a-z0-9][a-z0-9-]*[a-z0-9])(?![\w<-])/g)) {
        const kind = kinds[m[1]!]!;
        if (!names.get(kind)?.has(m[2]!)) problems.push(`${file.replace(REPO, '')}: ${m[0]}`);
      }
      for (const m of text.matchAll(/\bget secret ([a-z0-9][a-z0-9-]*[a-z0-9])\b/g)) {
        if (!names.get('secret')?.has(m[1]!)) problems.push(`${file.replace(REPO, '')}: secret ${m[1]}`);
      }
      for (const m of text.matchAll(/helm (?:template|install|upgrade --install) ([a-z][a-z0-9-]*) k8s\/charts\/auditflow-platform/g)) {
        if (m[1] !== 'afp') problems.push(`${file.replace(REPO, '')}: release ${m[1]} (the kit's objects are named for release afp)`);
      }
      for (const m of text.matchAll(/`(auditflow-(?:postgresql|rabbitmq|redis|notification-service[a-z-]*|audit-ingest[a-z-]*))`/g)) problems.push(`${file.replace(REPO, '')}: ${m[1]}`);
    }
    assert.deepEqual(problems, []);
  });

  test("k8s/base/README.md lists exactly the Secrets the base references, with every key it reads", () => {
    const referenced = new Map<string, Set<string>>();
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) {
        for (const item of node) visit(item);
        return;
      }
      if (!node || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      const ref = o['secretKeyRef'] as { name: string; key: string } | undefined;
      if (ref) referenced.set(ref.name, (referenced.get(ref.name) ?? new Set()).add(ref.key));
      const vol = o['secret'] as { secretName?: string } | undefined;
      if (vol?.secretName) referenced.set(vol.secretName, referenced.get(vol.secretName) ?? new Set());
      for (const value of Object.values(o)) visit(value);
    };
    visit(renders.get('k8s/base')!.objects);
    const table = new Map<string, string[]>();
    for (const m of readFileSync(join(REPO, 'k8s/base/README.md'), 'utf8').matchAll(/^\| `([a-z0-9-]+)` \| (.+) \|$/gm)) {
      table.set(m[1]!, [...m[2]!.matchAll(/`([^`]+)`/g)].map((k) => k[1]!));
    }
    assert.deepEqual([...table.keys()].sort(), [...referenced.keys()].sort());
    for (const [name, keys] of referenced) for (const key of keys) assert.ok(table.get(name)?.includes(key), `${name}: key ${key} missing from the README`);
    const script = readFileSync(join(REPO, 'k8s/base/create-secrets.sh'), 'utf8');
    assert.equal([...script.matchAll(/^ {2}charts\/\S+secret\S*\.yaml$/gm)].length, referenced.size, 'create-secrets.sh renders every one of them');
  });

  test('the sizing tables of docs/kubernetes.md are what the chart and the prod overlay render', () => {
    execFileSync('node', [join(REPO, 'k8s/charts/tools/sizing-table.mjs'), '--check'], { cwd: REPO, stdio: 'pipe' });
  });

  test('the kube-prometheus-stack recipe adds the chart repository and passes the Alertmanager config as values', () => {
    const doc = readFileSync(join(REPO, 'docs/monitoring.md'), 'utf8');
    const recipe = doc.slice(doc.indexOf('### kube-prometheus-stack'), doc.indexOf('### Plain Prometheus'));
    assert.match(recipe, /helm repo add prometheus-community https:\/\/prometheus-community\.github\.io\/helm-charts/);
    assert.doesNotMatch(recipe, /--set-file alertmanager\.config/);
    assert.match(recipe, /-f monitoring\/kube-prometheus-stack\/alertmanager-values\.yaml/);
    assert.match(recipe, /-f monitoring\/kube-prometheus-stack\/auditflow-values\.yaml/);
    const stackRelease = /helm upgrade --install (\S+) prometheus-community\/kube-prometheus-stack/.exec(recipe)?.[1];
    const labels = (parse(readFileSync(KPS_VALUES, 'utf8')) as { global: { serviceMonitor: { labels: Record<string, string> } } }).global.serviceMonitor.labels;
    assert.equal(labels['release'], stackRelease, 'the ServiceMonitors carry the label of the stack release the recipe installs');
    const stack = parse(readFileSync(join(REPO, 'monitoring/kube-prometheus-stack/values-pi.yaml'), 'utf8')) as { prometheus: { prometheusSpec: Record<string, unknown> } };
    assert.equal(stack.prometheus.prometheusSpec['additionalScrapeConfigsSecret'], undefined, 'no second scrape of the same targets');
    execFileSync('node', [join(REPO, 'scripts/sync-alertmanager-values.mjs'), '--check'], { cwd: REPO, stdio: 'pipe' });
    const values = parse(readFileSync(join(REPO, 'monitoring/kube-prometheus-stack/alertmanager-values.yaml'), 'utf8')) as { alertmanager: { config: unknown } };
    assert.deepEqual(values.alertmanager.config, parse(readFileSync(join(REPO, 'monitoring/alertmanager/alertmanager.yaml'), 'utf8')), 'a map, as the stack expects');
  });
});
