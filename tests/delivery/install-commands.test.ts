// The operator's commands and the automation agree: one Helm release name everywhere
// (README, docs, NOTES.txt, workflows, scripts, Ansible, the Kustomize base), and the README's
// install command uses the chart, values file and flags that CI and Ansible use.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (rel: string): string => readFileSync(path.join(repo, rel), 'utf8');
const RELEASE = 'afp';

/** Every `helm <verb> <release>` in a text (shell continuation lines joined). */
function helmReleases(text: string, verb: 'upgrade --install' | 'test' | 'template'): string[] {
  const code = [...text.matchAll(/^```(?:bash|sh)\n([\s\S]*?)^```/gm)].map((m) => m[1]).join('\n');
  const joined = code.replace(/\\\n\s*/g, ' ');
  return [...joined.matchAll(new RegExp(`helm ${verb} ([a-z0-9$"{}._-]+)`, 'g'))].map((m) => m[1]!);
}

describe('one release name', () => {
  test(`README.md and docs/kubernetes.md install, test and template the release "${RELEASE}"`, () => {
    for (const file of ['README.md', 'docs/kubernetes.md']) {
      const text = read(file);
      const names = [...helmReleases(text, 'upgrade --install'), ...helmReleases(text, 'test'), ...helmReleases(text, 'template')];
      assert.ok(names.length > 0, `${file} has no helm command`);
      for (const name of names) assert.equal(name, RELEASE, `${file}: helm ... ${name}`);
    }
  });

  test('the deploy workflow, its script and the Ansible playbook default to the same release', () => {
    const workflow = parse(read('.github/workflows/deploy-helm.yml')) as { on: { workflow_call: { inputs: { release: { default: string } } } } };
    assert.equal(workflow.on.workflow_call.inputs.release.default, RELEASE);
    assert.match(read('scripts/deploy-helm.sh'), new RegExp(`^release=\\$\\{RELEASE:-${RELEASE}\\}$`, 'm'));
    const vars = parse(read('infra/ansible/playbooks/vars/platform.yml')) as Record<string, string>;
    assert.equal(vars['platform_release'], RELEASE);
    for (const wf of ['images.yml', 'release.yml']) {
      assert.doesNotMatch(read(`.github/workflows/${wf}`), /^\s+release: (?!afp)\S+/m, `${wf} overrides the release name`);
    }
  });

  test('the Kustomize base and create-secrets.sh use the same name, so Secrets and objects line up', () => {
    assert.ok(read('k8s/charts/tools/render-base.mjs').includes(`RELEASE = '${RELEASE}'`), 'render-base.mjs');
    assert.ok(read('k8s/base/create-secrets.sh').includes(`template ${RELEASE} `), 'create-secrets.sh');
    const base = read('k8s/base/notification-service/deployment-notification-service.yaml');
    assert.ok(new RegExp(`name: ${RELEASE}-notification-service$`, 'm').test(base), 'k8s/base names');
  });

  test('NOTES.txt names the release it was installed as (no hard-coded name)', () => {
    const notes = read('k8s/charts/auditflow-platform/templates/NOTES.txt');
    assert.doesNotMatch(notes, /\b(afp|auditflow)-(audit|event|notification|postgresql|rabbitmq|redis)/);
    assert.match(notes, /helm test \{\{ \.Release\.Name \}\}/);
  });
});

describe('the README install command is what CI and Ansible run', () => {
  const readmeInstall = (): string => {
    const code = [...read('README.md').matchAll(/^```bash\n([\s\S]*?)^```/gm)].map((m) => m[1]).join('\n').replace(/\\\n\s*/g, ' ');
    const line = code.split('\n').find((l) => l.includes('helm upgrade --install'));
    assert.ok(line, 'README.md has a helm upgrade --install command');
    return line;
  };

  test('same chart, per-environment values file, repository prefix and atomic wait with helm test', () => {
    const readme = readmeInstall();
    const script = read('scripts/deploy-helm.sh');
    const play = read('infra/ansible/playbooks/platform.yml');
    assert.match(readme, /helm upgrade --install afp k8s\/charts\/auditflow-platform /);
    assert.match(readme, /-f k8s\/charts\/auditflow-platform\/values-dev\.yaml/);
    assert.match(readme, /--set global\.imageRepositoryPrefix=\S+/, 'README names the image organisation the operator owns');
    assert.match(script, /--set-string "global\.imageRepositoryPrefix=\$org"/);
    assert.match(read('infra/ansible/playbooks/tasks/platform-values.yml'), /'global': \{'imageRepositoryPrefix': platform_image_org\}/);
    for (const flag of ['--atomic', '--wait', '--timeout 10m']) {
      assert.ok(readme.includes(flag), `README lacks ${flag}`);
    }
    assert.match(script, /--atomic --wait --timeout "\$\{HELM_TIMEOUT:-10m\}"/);
    assert.match(play, /atomic: true/);
    assert.match(play, /wait_timeout: 10m/);
    assert.match(readme, /helm test afp -n dev --timeout 10m --logs/);
    assert.match(script, /"\$helm" test "\$release" --namespace "\$NAMESPACE" --timeout 10m --logs/);
    assert.match(play, /helm test \{\{ platform_release \}\} --namespace \{\{ platform_environment \}\}\s+--kubeconfig \{\{ kubeconfig_local_path \}\} --timeout 10m --logs/);
  });
});

