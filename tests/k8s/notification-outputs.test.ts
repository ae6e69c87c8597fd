// The notification-service chart carries the outputs file (docs/outputs.md) as a ConfigMap, points
// OUTPUTS_FILE at it, mounts the operator's Secret for `{ file: }` references, and rolls the pods
// when the file changes. The rendered file must be one the service accepts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseOutputsConfig } from '../../src/notification-service/src/delivery/outputs-config.ts';
import { find, helmTemplate, type K8sObject } from './lib/render.ts';
import { validateAll } from './lib/validate.ts';

const OUTPUTS = `outputs:
  - name: am
    type: alertmanager
    url: http://alertmanager.monitoring:9093
  - name: soc
    type: webhook
    url: https://soc.example/hook
    secret: { env: SOC_WEBHOOK_SECRET }
route:
  receiver: am
  routes:
    - { matchers: ["severity=CRITICAL"], receiver: soc, continue: true }
`;

async function render(content: string, extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'af-k8s-outputs-'));
  try {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, JSON.stringify({ 'notification-service': { outputs: { content, existingSecret: 'notification-outputs', ...extra } } }));
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

function podOf(deployment: K8sObject): { spec: PodSpec; annotations: Record<string, string> } {
  const template = (deployment.spec as { template: { spec: PodSpec; metadata: { annotations: Record<string, string> } } }).template;
  return { spec: template.spec, annotations: template.metadata.annotations };
}

describe('notification-service outputs in the chart', () => {
  test('a ConfigMap with the file, OUTPUTS_FILE pointing at it, the Secret mounted read-only; the file validates', async () => {
    const rendered = await render(OUTPUTS);
    assert.deepEqual(await validateAll(rendered.objects), []);
    const configMap = find(rendered.objects, 'ConfigMap', 'afp-notification-service-outputs');
    const text = configMap.data?.['outputs.yaml'] ?? '';
    const parsed = parseOutputsConfig(text, 'outputs.yaml', { SOC_WEBHOOK_SECRET: 'x' });
    assert.deepEqual([...parsed.outputs.keys()], ['am', 'soc']);

    const { spec } = podOf(find(rendered.objects, 'Deployment', 'afp-notification-service'));
    const container = spec.containers[0]!;
    assert.equal(container.env.find((e) => e.name === 'OUTPUTS_FILE')?.value, '/etc/auditflow/outputs/outputs.yaml');
    const mounts = Object.fromEntries(container.volumeMounts.map((m) => [m.name, m]));
    assert.deepEqual([mounts.outputs?.mountPath, mounts.outputs?.readOnly], ['/etc/auditflow/outputs', true]);
    assert.deepEqual([mounts['output-secrets']?.mountPath, mounts['output-secrets']?.readOnly], ['/etc/auditflow/output-secrets', true]);
    assert.equal(spec.volumes.find((v) => v.name === 'outputs')?.configMap?.name, 'afp-notification-service-outputs');
    assert.equal(spec.volumes.find((v) => v.name === 'output-secrets')?.secret?.secretName, 'notification-outputs');
  });

  test('editing the file changes the config checksum (the pods roll); without outputs nothing is mounted', async () => {
    const checksum = async (content: string) =>
      podOf(find((await render(content)).objects, 'Deployment', 'afp-notification-service')).annotations['checksum/config'];
    assert.notEqual(await checksum(OUTPUTS), await checksum(OUTPUTS.replace('am\n  routes', 'soc\n  routes')));

    const plain = await helmTemplate({});
    const { spec } = podOf(find(plain.objects, 'Deployment', 'afp-notification-service'));
    assert.equal(spec.containers[0]!.env.some((e) => e.name === 'OUTPUTS_FILE'), false);
    assert.equal(plain.objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-outputs')), false);
  });
});
