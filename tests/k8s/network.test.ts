// The lab network of docs/network.md (issue 23) in the chart: every part renders nothing when
// off, and on (values-lab-network.yaml over prod) renders on Helm 3, Helm 4 and Kustomize into
// objects that validate against their CRD schemas and refer to each other consistently.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { CHART, ENVIRONMENTS, find, helmResult, helmTemplate, type K8sObject, kustomize, REPO, type Rendered, valuesFile } from './lib/render.ts';
import { validateAll, validateObject } from './lib/validate.ts';

const run = promisify(execFile);
const HELM4 = join(REPO, '.tools', 'bin', 'helm4');
const LAB = join(CHART, 'values-lab-network.yaml');
const NETWORK_GROUPS = /^(cert-manager\.io|metallb\.io|traefik\.io)\//;
const isNetwork = (o: K8sObject) =>
  o.metadata.labels?.['app.kubernetes.io/component'] === 'lab-network' || NETWORK_GROUPS.test(o.apiVersion) || o.metadata.name === 'coredns-custom';

function parse(text: string, source: string): Rendered {
  const objects = parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
  return { source, objects };
}

const spec = (o: K8sObject) => o.spec as Record<string, any>;

describe('lab network: off by default', () => {
  for (const env of ENVIRONMENTS) {
    test(`${env}: no lab network object is rendered`, async () => {
      const { objects } = await helmTemplate({ namespace: env, valuesFiles: [valuesFile(env)] });
      assert.deepEqual(objects.filter(isNetwork).map((o) => `${o.kind}/${o.metadata.name}`), []);
    });
  }

  const toggles: Record<string, string[]> = {
    'network.labCA.enabled': ['ClusterIssuer', 'Certificate', 'ClusterIssuer'],
    'network.certificates.enabled': ['Certificate', 'Certificate', 'Certificate'],
    'network.metallb.enabled': ['IPAddressPool', 'L2Advertisement'],
    'network.loadBalancer.enabled': ['Service', 'Service'],
    'network.dns.enabled': ['ConfigMap'],
    'network.ingress.enabled': ['IngressRoute'],
  };
  for (const [toggle, kinds] of Object.entries(toggles)) {
    test(`${toggle} alone renders only its own objects`, async () => {
      const { objects } = await helmTemplate({ namespace: 'dev', valuesFiles: [valuesFile('dev')], set: [`${toggle}=true`] });
      assert.deepEqual(objects.filter(isNetwork).map((o) => o.kind).sort(), [...kinds].sort());
    });
  }

  test('ExternalDNS without its TSIG Secret fails at template time, naming the value', async () => {
    const { ok, output } = await helmResult(['template', 'afp', CHART, '--set', 'network.externalDns.enabled=true']);
    assert.equal(ok, false);
    assert.match(output, /network\.externalDns\.existingSecret/);
  });

  test('the values schema refuses a malformed MetalLB range and an unknown record type', async () => {
    for (const bad of ['network.metallb.addresses[0]=192.168.1.240..250', 'network.dns.records[0].type=MX']) {
      const { ok, output } = await helmResult(['template', 'afp', CHART, '--set', bad]);
      assert.equal(ok, false, bad);
      assert.match(output, /values don't meet the specifications of the schema|network/, output);
    }
  });
});

describe('lab network: on', () => {
  const renders: Promise<Rendered>[] = [
    helmTemplate({ namespace: 'prod', valuesFiles: [valuesFile('prod'), LAB] }),
    run(HELM4, ['template', 'afp', CHART, '-n', 'prod', '-f', valuesFile('prod'), '-f', LAB], { cwd: REPO, maxBuffer: 64 << 20 }).then(({ stdout }) =>
      parse(stdout, 'helm4 template prod + lab'),
    ),
  ];

  test('Helm 3 and Helm 4 render the same lab network objects', async () => {
    const [h3, h4] = await Promise.all(renders);
    const pick = (r: Rendered) => JSON.stringify(r.objects.filter(isNetwork));
    assert.ok(h3!.objects.filter(isNetwork).length >= 17);
    assert.equal(pick(h4!), pick(h3!));
  });

  test('every object validates (core API, cert-manager and Traefik CRD models, MetalLB schemas)', async () => {
    for (const r of await Promise.all(renders)) {
      assert.deepEqual(await validateAll(r.objects.filter(isNetwork)), [], r.source);
    }
  });

  test('the validators can fail: a misspelt or mistyped field is reported', async () => {
    const [h3] = await Promise.all(renders);
    const pool = structuredClone(find(h3!.objects, 'IPAddressPool', 'lab-pool'));
    (pool.spec as Record<string, unknown>)['adresses'] = spec(pool)['addresses'];
    assert.notDeepEqual(await validateObject(pool), []);
    const cert = structuredClone(find(h3!.objects, 'Certificate', 'afp-audit-ingest-lab'));
    spec(cert)['privateKey'] = { algorithm: 'EC' };
    assert.notDeepEqual(await validateObject(cert), []);
    const route = structuredClone(find(h3!.objects, 'IngressRoute', 'afp-event-audit-dashboard-lab'));
    spec(route)['routes'][0].kind = 'Route';
    assert.notDeepEqual(await validateObject(route), []);
  });

  test('the lab CA: self-signed root, CA ClusterIssuer lab-ca-issuer over the root Secret', async () => {
    const { objects } = (await renders[0])!;
    const root = find(objects, 'Certificate', 'lab-ca');
    assert.equal(root.metadata.namespace, 'cert-manager');
    assert.equal(spec(root)['isCA'], true);
    assert.equal(spec(root)['issuerRef'].name, 'lab-ca-issuer-selfsigned');
    assert.deepEqual(spec(find(objects, 'ClusterIssuer', 'lab-ca-issuer-selfsigned')), { selfSigned: {} });
    assert.deepEqual(spec(find(objects, 'ClusterIssuer', 'lab-ca-issuer')), { ca: { secretName: spec(root)['secretName'] } });
  });

  test('service Certificates come from lab-ca-issuer and are the Secrets Traefik and audit-ingest use', async () => {
    const { objects } = (await renders[0])!;
    const certs = objects.filter((o) => o.kind === 'Certificate' && o.metadata.namespace === 'prod');
    assert.equal(certs.length, 3);
    for (const c of certs) assert.equal(spec(c)['issuerRef'].name, 'lab-ca-issuer');
    const bySecret = new Map(certs.map((c) => [spec(c)['secretName'] as string, spec(c)['dnsNames'] as string[]]));
    for (const route of objects.filter((o) => o.kind === 'IngressRoute')) {
      const host = /Host\(`([^`]+)`\)/.exec(spec(route)['routes'][0].match)?.[1];
      assert.ok(host, 'host rule');
      assert.ok(bySecret.get(spec(route)['tls'].secretName)?.includes(host), `${route.metadata.name}: ${host} in its certificate`);
    }
    assert.deepEqual(
      objects.filter((o) => o.kind === 'IngressRoute').map((r) => spec(r)['routes'][0].match),
      ['Host(`prod.lab.engineconf.com`)', 'Host(`api.prod.lab.engineconf.com`)'],
    );
    const ingest = find(objects, 'Deployment', 'afp-audit-ingest');
    const volumes = (spec(ingest)['template'].spec.volumes as { secret?: { secretName: string } }[]).map((v) => v.secret?.secretName);
    assert.ok(volumes.includes('afp-audit-ingest-lab-tls'), 'audit-ingest reads the lab certificate');
    assert.equal(objects.some((o) => o.kind === 'Secret' && o.metadata.name === 'afp-audit-ingest-tls'), false, 'no generated certificate');
    const ingestNames = bySecret.get('afp-audit-ingest-lab-tls') ?? [];
    assert.ok(ingestNames.includes('ingest.prod.lab.engineconf.com') && ingestNames.includes('afp-audit-ingest.prod.svc'));
  });

  test('LoadBalancer Services beside the NodePorts select the real pods; MetalLB pool and advertisement agree', async () => {
    const { objects } = (await renders[0])!;
    for (const [lb, deployment, nodePortService] of [
      ['afp-event-audit-dashboard-lb', 'afp-event-audit-dashboard', 'afp-event-audit-dashboard'],
      ['afp-audit-ingest-lb', 'afp-audit-ingest', 'afp-audit-ingest'],
    ] as const) {
      const svc = find(objects, 'Service', lb);
      assert.equal(spec(svc)['type'], 'LoadBalancer');
      assert.equal(spec(find(objects, 'Service', nodePortService))['type'], 'NodePort');
      const podLabels = spec(find(objects, 'Deployment', deployment))['template'].metadata.labels as Record<string, string>;
      for (const [k, v] of Object.entries(spec(svc)['selector'] as Record<string, string>)) assert.equal(podLabels[k], v, `${lb} selector ${k}`);
      const podPorts = (spec(find(objects, 'Deployment', deployment))['template'].spec.containers[0].ports as { name: string }[]).map((p) => p.name);
      for (const p of spec(svc)['ports'] as { targetPort: string }[]) assert.ok(podPorts.includes(p.targetPort), `${lb} → ${p.targetPort}`);
    }
    assert.equal(find(objects, 'Service', 'afp-audit-ingest-lb').metadata.annotations?.['metallb.io/loadBalancerIPs'], '192.168.1.241');
    const pool = find(objects, 'IPAddressPool', 'lab-pool');
    assert.deepEqual(spec(pool)['addresses'], ['192.168.1.240-192.168.1.250']);
    assert.deepEqual(spec(find(objects, 'L2Advertisement', 'lab-pool'))['ipAddressPools'], ['lab-pool']);
  });

  test('CoreDNS: coredns-custom in kube-system serves the zone file it carries; ExternalDNS targets the zone', async () => {
    const { objects } = (await renders[0])!;
    const cm = find(objects, 'ConfigMap', 'coredns-custom');
    assert.equal(cm.metadata.namespace, 'kube-system');
    assert.match(cm.data?.['lab.server'] ?? '', /^lab\.engineconf\.com:53 \{[\s\S]*file \/etc\/coredns\/custom\/lab\.engineconf\.com\.db/);
    assert.match(cm.data?.['lab.engineconf.com.db'] ?? '', /^\$ORIGIN lab\.engineconf\.com\.\n[\s\S]*\bIN SOA\b[\s\S]*^pi1 IN A 192\.168\.1\.160$/m);
    const args = spec(find(objects, 'Deployment', 'afp-external-dns'))['template'].spec.containers[0].args as string[];
    for (const a of ['--provider=rfc2136', '--rfc2136-zone=lab.engineconf.com', '--domain-filter=lab.engineconf.com', '--txt-owner-id=auditflow-k3s']) assert.ok(args.includes(a), a);
  });
});

describe('lab network: Kustomize', () => {
  // Kustomize refuses absolute paths, so the throw-away overlay sits beside the real ones.
  const dir = mkdtempSync(join(REPO, 'k8s', 'overlays', '.lab-network-test-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the prod overlay with the lab-network component, and the cluster-wide kustomization, build and validate', async () => {
    writeFileSync(
      join(dir, 'kustomization.yaml'),
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: prod\nresources:\n  - ../prod\ncomponents:\n  - ../../components/lab-network\n`,
    );
    const overlay = await kustomize(dir);
    const lab = overlay.objects.filter(isNetwork);
    assert.ok(lab.length >= 9);
    for (const o of lab) if (o.kind !== 'ClusterRole' && o.kind !== 'ClusterRoleBinding') assert.equal(o.metadata.namespace, 'prod', `${o.kind}/${o.metadata.name}`);
    assert.deepEqual(await validateAll(lab), []);
    const cluster = await kustomize(join(REPO, 'k8s/components/lab-network/cluster'));
    assert.deepEqual(await validateAll(cluster.objects), []);
    assert.equal(find(cluster.objects, 'ConfigMap', 'coredns-custom').metadata.namespace, 'kube-system');
    assert.equal(find(cluster.objects, 'IPAddressPool', 'lab-pool').metadata.namespace, 'metallb-system');
  });
});
