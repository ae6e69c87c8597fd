// The chart's part of the crowdsec response output (docs/outputs.md): response.allowlist becomes
// an allowlist file the output reads with allowlist_file, the machine credentials come from an
// existing Secret mounted read-only (never from values), and the dashboard's trusted proxies
// reach it as TRUSTED_PROXIES.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseOutputsConfig } from '../../src/notification-service/src/delivery/outputs-config.ts';
import { find, helmTemplate, type K8sObject } from './lib/render.ts';
import { validateAll } from './lib/validate.ts';

const OUTPUTS = `outputs:
  - name: ban
    type: crowdsec
    mode: enforce
    url: http://crowdsec-service.crowdsec:8080
    machine_id: { file: /etc/auditflow/crowdsec/machine-id }
    password: { file: /etc/auditflow/crowdsec/password }
    allowlist_file: /etc/auditflow/response/allowlist.txt
route:
  receiver: ban
`;

async function render(values: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), 'af-k8s-response-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, JSON.stringify(values));
    return await helmTemplate({ valuesFiles: [file] });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Container {
  env: { name: string; value?: string }[];
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string } }[];
}

function podOf(deployment: K8sObject): PodSpec {
  return (deployment.spec as { template: { spec: PodSpec } }).template.spec;
}

describe('crowdsec response output in the chart', () => {
  test('the allowlist ConfigMap and the credentials Secret are mounted, and the rendered files validate together', async () => {
    const rendered = await render({
      'notification-service': {
        outputs: { content: OUTPUTS },
        response: { allowlist: ['192.168.1.10', '192.168.1.0/24', '2001:db8::/32'], crowdsecSecret: 'crowdsec-machine' },
      },
      'event-audit-dashboard': { trustedProxies: ['10.42.0.0/16'] },
    });
    assert.deepEqual(await validateAll(rendered.objects), []);
    const allowlist = find(rendered.objects, 'ConfigMap', 'afp-notification-service-response-allowlist').data?.['allowlist.txt'] ?? '';
    const spec = podOf(find(rendered.objects, 'Deployment', 'afp-notification-service'));
    const mounts = Object.fromEntries(spec.containers[0]!.volumeMounts.map((m) => [m.name, m]));
    assert.deepEqual([mounts['response-allowlist']?.mountPath, mounts['response-allowlist']?.readOnly], ['/etc/auditflow/response', true]);
    assert.deepEqual([mounts['crowdsec-credentials']?.mountPath, mounts['crowdsec-credentials']?.readOnly], ['/etc/auditflow/crowdsec', true]);
    assert.equal(spec.volumes.find((v) => v.name === 'crowdsec-credentials')?.secret?.secretName, 'crowdsec-machine');
    assert.equal(rendered.objects.some((o) => o.kind === 'Secret' && o.metadata.name === 'crowdsec-machine'), false, 'the chart never creates the credentials');

    // The service reads what the pod would see at the mount paths.
    const dir = mkdtempSync(join(tmpdir(), 'af-k8s-response-files-'));
    try {
      writeFileSync(join(dir, 'allowlist.txt'), allowlist);
      writeFileSync(join(dir, 'machine-id'), 'auditflow\n');
      writeFileSync(join(dir, 'password'), 'pw\n');
      const text = find(rendered.objects, 'ConfigMap', 'afp-notification-service-outputs').data?.['outputs.yaml'] ?? '';
      const local = text.replaceAll('/etc/auditflow/response/', `${dir}/`).replaceAll('/etc/auditflow/crowdsec/', `${dir}/`);
      const output = parseOutputsConfig(local, 'outputs.yaml', {}).outputs.get('ban');
      assert.ok(output?.type === 'crowdsec');
      assert.deepEqual(output.allowlist, ['192.168.1.10', '192.168.1.0/24', '2001:db8::/32']);
      assert.equal(output.machineId, 'auditflow');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const dashboard = podOf(find(rendered.objects, 'Deployment', 'afp-event-audit-dashboard')).containers[0]!;
    assert.equal(dashboard.env.find((e) => e.name === 'TRUSTED_PROXIES')?.value, '10.42.0.0/16');
  });

  test('a bad allowlist entry fails the render; by default nothing of this is rendered', async () => {
    await assert.rejects(render({ 'notification-service': { response: { allowlist: ['the-nas'] } } }), /response\.allowlist: "the-nas" is not an IP address or CIDR range/);
    const plain = await helmTemplate({});
    assert.equal(plain.objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-response-allowlist')), false);
    const spec = podOf(find(plain.objects, 'Deployment', 'afp-notification-service'));
    assert.equal(spec.volumes?.some((v) => v.name === 'crowdsec-credentials') ?? false, false);
    const dashboard = podOf(find(plain.objects, 'Deployment', 'afp-event-audit-dashboard')).containers[0]!;
    assert.equal(dashboard.env.some((e) => e.name === 'TRUSTED_PROXIES'), false);
  });
});
