// The hosts file of the analysis' enrichment (docs/enrichment.md), the way an operator gets it:
// Ansible's platform values compute it from the inventory, the chart mounts it as a ConfigMap and
// points HOSTS_FILE at it, and the analysis' own parser accepts it and finds the Pis in it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { parseHostsFile } from '../../src/audit-log-analysis/src/enrichment/hosts-file.ts';
import { find, helmTemplate, podTemplateOf, REPO, valuesFile } from './lib/render.ts';

const SERVICES = ['audit-event-generator', 'audit-log-analysis', 'notification-service', 'event-audit-dashboard', 'audit-ingest'];

function analysisEnv(objects: Awaited<ReturnType<typeof helmTemplate>>['objects']): Map<string, string | undefined> {
  const pod = podTemplateOf(find(objects, 'Deployment', 'afp-audit-log-analysis'))!;
  const container = pod.spec.containers[0]!;
  return new Map((container.env ?? []).map((e) => [e.name, e.value]));
}

describe('hosts file for the enrichment', () => {
  test('without hosts the chart sets no HOSTS_FILE and renders no hosts ConfigMap', async () => {
    const rendered = await helmTemplate({ valuesFiles: [valuesFile('prod')] });
    assert.equal(analysisEnv(rendered.objects).has('HOSTS_FILE'), false);
    assert.equal(analysisEnv(rendered.objects).get('ENRICHMENT_ENABLED'), 'true');
    assert.equal(rendered.objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-hosts')), false);
  });

  test('platform.yml writes the inventory into the chart values; the chart mounts it as HOSTS_FILE; the analysis reads it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-hosts-values-'));
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
      const digests = Object.fromEntries(SERVICES.map((s) => [s, `sha256:${'a'.repeat(64)}`]));
      // auditflow_owner as an extra var is every host's owner; a host var would set it per Pi.
      const res = spawnSync('ansible-playbook', [join(dir, 'probe.yml'), '-e', JSON.stringify({ platform_image_digests: digests, auditflow_owner: 'jdev' })], {
        cwd: REPO,
        encoding: 'utf8',
        env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: dir },
      });
      assert.equal(res.status, 0, res.stdout + res.stderr);

      const rendered = await helmTemplate({ valuesFiles: [valuesFile('prod'), out] });
      const configMap = find(rendered.objects, 'ConfigMap', 'afp-audit-log-analysis-hosts');
      const text = configMap.data!['hosts.yaml']!;
      const hosts = parseHostsFile(text, 'hosts.yaml');

      const inventory = parse(readFileSync(join(REPO, 'infra/ansible/inventory/hosts.yml'), 'utf8'));
      const cluster = inventory.all.children.k3s_cluster.children;
      const servers = Object.entries(cluster.k3s_server.hosts) as [string, { ansible_host: string }][];
      const agents = Object.entries(cluster.k3s_agents.hosts) as [string, { ansible_host: string }][];
      assert.ok(servers.length >= 1 && agents.length >= 1);
      for (const [name, vars] of servers) {
        assert.deepEqual(hosts.find(name), { name, owner: 'jdev', role: 'k3s-server', groups: ['k3s_cluster', 'k3s_server'] });
        assert.equal(hosts.find(vars.ansible_host)?.name, name, 'found by its address');
        assert.equal(hosts.find(name.split('.')[0]!)?.name, name, 'found by the short name syslog uses');
      }
      for (const [name] of agents) assert.equal(hosts.find(name)?.role, 'k3s-agent');

      const env = analysisEnv(rendered.objects);
      assert.equal(env.get('HOSTS_FILE'), '/etc/auditflow/hosts/hosts.yaml');
      const pod = podTemplateOf(find(rendered.objects, 'Deployment', 'afp-audit-log-analysis'))!;
      const volume = (pod.spec.volumes ?? []).find((v) => v.name === 'hosts');
      assert.equal(volume?.configMap?.name, 'afp-audit-log-analysis-hosts');
      const mount = (pod.spec.containers[0]!.volumeMounts ?? []).find((m) => m.name === 'hosts');
      assert.deepEqual([mount?.mountPath, mount?.readOnly], ['/etc/auditflow/hosts', true]);

      // Editing the hosts rolls the pods, as editing the rules does.
      const before = pod.annotations['checksum/config'];
      const changed = await helmTemplate({ valuesFiles: [valuesFile('prod'), out], set: ['audit-log-analysis.hosts.content=hosts: {}'] });
      assert.notEqual(podTemplateOf(find(changed.objects, 'Deployment', 'afp-audit-log-analysis'))!.annotations['checksum/config'], before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
