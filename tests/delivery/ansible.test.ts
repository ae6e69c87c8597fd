// Ansible for the K3s cluster, checked offline: syntax-check of every playbook, ansible-lint
// (production profile) over playbooks and roles, and the invariants of issue 6: the seed's
// inventory, a pinned and checksum-verified K3s, no committed vault or token, and a runner
// whose RBAC is namespaced instead of cluster-admin.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ansibleDir = path.join(repoRoot, 'infra/ansible');
const playbooks = readdirSync(path.join(ansibleDir, 'playbooks'))
  .filter((f) => f.endsWith('.yml'))
  .sort();

// Ansible's local temp files go to a directory this test owns and removes.
const localTemp = mkdtempSync(path.join(os.tmpdir(), 'af-ansible-tmp-'));
after(() => rmSync(localTemp, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string): { status: number | null; output: string } {
  const res = spawnSync(cmd, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: localTemp },
  });
  if (res.error) throw res.error;
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(full));
    else out.push(full);
  }
  return out;
}

describe('infra/ansible', () => {
  test('the playbooks exist', () => {
    for (const p of ['site.yml', 'github-runner.yml', 'platform.yml']) assert.ok(playbooks.includes(p), p);
  });

  for (const playbook of playbooks) {
    test(`${playbook}: ansible-playbook --syntax-check`, () => {
      const { status, output } = run('ansible-playbook', ['--syntax-check', `playbooks/${playbook}`], ansibleDir);
      assert.equal(status, 0, output);
    });
  }

  test('ansible-lint passes the production profile on every playbook and role', () => {
    const { status, output } = run('ansible-lint', ['--offline', '--nocolor', '--profile', 'production', 'playbooks/', 'roles/'], ansibleDir);
    assert.equal(status, 0, output);
  });

  // The documented invocations: `cd infra/ansible && ansible-playbook playbooks/<play>.yml`, and the
  // same from the repository root. A probe play on localhost-like connections shows which
  // inventory variables Ansible really loads for the cluster hosts.
  const vaultStandIns = ['-e', 'vault_ansible_user=probe-user', '-e', 'vault_ansible_become_password=x', '-e', 'vault_k3s_token=x'];
  function probe(cwd: string, playbookDir: string): string {
    const dir = mkdtempSync(path.join(playbookDir, '.probe-'));
    try {
      writeFileSync(
        path.join(dir, 'probe.yml'),
        [
          '---',
          '- name: Probe the inventory variables',
          '  hosts: k3s_cluster',
          '  connection: local',
          '  gather_facts: false',
          '  tasks:',
          '    - name: Print the variables the roles need',
          '      ansible.builtin.debug:',
          '        msg: "PROBE {{ inventory_hostname }} {{ k3s_version }} {{ platform_namespaces | join(\',\') }} {{ ansible_user }}"',
          '',
        ].join('\n'),
      );
      const { status, output } = run('ansible-playbook', [...vaultStandIns, path.relative(cwd, path.join(dir, 'probe.yml'))], cwd);
      assert.equal(status, 0, output);
      return output;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  for (const [where, cwd] of [
    ['infra/ansible', ansibleDir],
    ['the repository root', repoRoot],
  ] as const) {
    test(`run from ${where}, a play in playbooks/ sees the inventory's group variables`, () => {
      const output = probe(cwd, path.join(ansibleDir, 'playbooks'));
      const version = parse(readFileSync(path.join(ansibleDir, 'inventory/group_vars/k3s_cluster/main.yml'), 'utf8')).k3s_version as string;
      for (const host of ['pi1.jdevlab.local', 'pi3.jdevlab.local']) {
        assert.ok(output.includes(`PROBE ${host} ${version} dev,staging,preprod,prod probe-user`), `${host}:\n${output}`);
      }
    });
  }

  test('run from the repository root, every playbook finds its roles and inventory', () => {
    for (const playbook of playbooks) {
      const { status, output } = run('ansible-playbook', ['--syntax-check', `infra/ansible/playbooks/${playbook}`], repoRoot);
      assert.equal(status, 0, `${playbook}: ${output}`);
      assert.doesNotMatch(output, /provided hosts list is empty|No inventory was parsed/, playbook);
    }
  });

  test('ansible-lint does fail on a non-idempotent task', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'af-ansible-lint-'));
    try {
      mkdirSync(path.join(dir, 'playbooks'));
      writeFileSync(
        path.join(dir, 'playbooks/bad.yml'),
        '---\n- name: Bad\n  hosts: all\n  tasks:\n    - name: Always reports a change\n      ansible.builtin.command: touch /tmp/x\n',
      );
      const { status, output } = run('ansible-lint', ['--offline', '--nocolor', '--profile', 'production', 'playbooks/'], dir);
      assert.notEqual(status, 0, output);
      assert.match(output, /no-changed-when/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the inventory names the seed Pis: pi3 serves, pi1 is an agent', () => {
    const inv = parse(readFileSync(path.join(ansibleDir, 'inventory/hosts.yml'), 'utf8'));
    const cluster = inv.all.children.k3s_cluster.children;
    assert.deepEqual(Object.keys(cluster.k3s_server.hosts), ['pi3.jdevlab.local']);
    assert.equal(cluster.k3s_server.hosts['pi3.jdevlab.local'].ansible_host, '192.168.1.161');
    assert.ok(Object.keys(cluster.k3s_agents.hosts).includes('pi1.jdevlab.local'));
    assert.equal(cluster.k3s_agents.hosts['pi1.jdevlab.local'].ansible_host, '192.168.1.160');
    for (const host of [...Object.keys(cluster.k3s_server.hosts), ...Object.keys(cluster.k3s_agents.hosts)]) {
      assert.match(host, /\.jdevlab\.local$/);
    }
  });

  test('K3s is pinned and verified against its release checksums', () => {
    const vars = parse(readFileSync(path.join(ansibleDir, 'inventory/group_vars/k3s_cluster/main.yml'), 'utf8'));
    assert.match(vars.k3s_version, /^v\d+\.\d+\.\d+\+k3s\d+$/);
    const tasks = parse(readFileSync(path.join(ansibleDir, 'roles/k3s_binary/tasks/main.yml'), 'utf8')) as Array<Record<string, unknown>>;
    const download = tasks.find((t) => 'ansible.builtin.get_url' in t)?.['ansible.builtin.get_url'] as Record<string, string> | undefined;
    assert.ok(download, 'the binary is downloaded with get_url');
    assert.match(download.checksum ?? '', /^sha256:.*sha256sum-/);
    assert.doesNotMatch(JSON.stringify(tasks), /get\.k3s\.io/, 'no unpinned install script');
  });

  test('no vault, token or encrypted secret is committed', () => {
    const files = filesUnder(ansibleDir).filter((f) => !f.includes(`${path.sep}artifacts${path.sep}`));
    const ignored = readFileSync(path.join(ansibleDir, '.gitignore'), 'utf8');
    assert.match(ignored, /^inventory\/group_vars\/all\/vault\.yml$/m);
    for (const file of files) {
      if (statSync(file).size > 1_000_000) continue;
      const text = readFileSync(file, 'utf8');
      const rel = path.relative(ansibleDir, file);
      if (rel === path.join('inventory', 'group_vars', 'all', 'vault.yml')) continue;
      assert.doesNotMatch(text, /\$ANSIBLE_VAULT;/, `${rel} holds vault ciphertext`);
      assert.doesNotMatch(text, /\b(ghp|gho|ghs|github_pat)_[A-Za-z0-9_]{20,}/, `${rel} holds a GitHub token`);
      assert.doesNotMatch(text, /\bA[A-Z0-9]{28}\b/, `${rel} holds what looks like a runner registration token`);
    }
    const example = parse(readFileSync(path.join(ansibleDir, 'vault.example.yml'), 'utf8')) as Record<string, string>;
    for (const [key, value] of Object.entries(example)) {
      assert.match(key, /^vault_/);
      assert.match(value, /^<.*>$/, `${key} is a placeholder`);
    }
  });

  test('the runner keeps its registration and has least-privilege RBAC', () => {
    const template = readFileSync(path.join(ansibleDir, 'roles/github_runner/templates/runner.yaml.j2'), 'utf8');
    // Replace Jinja with inert values so the manifest structure can be inspected.
    const rendered = template
      .replace(/\{%-?[\s\S]*?-?%\}/g, '')
      .replace(/\{\{[\s\S]*?\}\}/g, 'x')
      .replace(/^# .*$/gm, '');
    const docs = parseAllDocuments(rendered).map((d) => d.toJS() as Record<string, unknown> | null).filter((d) => d !== null);
    const kinds = docs.map((d) => d.kind);
    assert.ok(kinds.includes('StatefulSet'), 'a StatefulSet gives the runner a stable name');
    assert.ok(!kinds.includes('Deployment'));
    for (const doc of docs) {
      if (doc.kind !== 'ClusterRole' && doc.kind !== 'Role') continue;
      for (const rule of (doc.rules as Array<Record<string, unknown>>) ?? []) {
        for (const field of ['apiGroups', 'resources', 'verbs']) {
          assert.ok(!(rule[field] as unknown[]).includes('*'), `${doc.kind} ${field} must not use *`);
        }
        assert.ok(!(rule.apiGroups as string[]).includes('rbac.authorization.k8s.io'), 'the runner cannot manage RBAC');
        if (doc.kind === 'ClusterRole') {
          assert.deepEqual(rule.resources, ['namespaces']);
          assert.ok(rule.resourceNames, 'cluster-wide access is limited to named namespaces');
          assert.deepEqual(rule.verbs, ['get', 'patch']);
        }
      }
      const binding = docs.find((d) => d.kind === `${doc.kind}Binding`);
      assert.ok(binding, `${doc.kind} is bound`);
    }
    assert.match(template, /volumeClaimTemplates:/, 'the registration lives on a persistent volume');
    const entrypoint = readFileSync(path.join(ansibleDir, 'roles/github_runner/files/runner-entrypoint.sh'), 'utf8');
    assert.match(entrypoint, /\.credentials_rsaparams/);
    assert.doesNotMatch(entrypoint, /--disable-update/);
  });
});
