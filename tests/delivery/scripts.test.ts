// The deployment scripts the workflows call, run against stand-in helm and kubectl: service
// selection from path filters, Helm deployment by digest only, and promotion that applies
// exactly the digests running in the previous environment.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVICES = ['audit-event-generator', 'audit-log-analysis', 'notification-service', 'event-audit-dashboard', 'audit-ingest'];
const digest = (c: string) => `sha256:${c.repeat(64)}`;
const work = mkdtempSync(path.join(os.tmpdir(), 'af-delivery-scripts-'));
after(() => rmSync(work, { recursive: true, force: true }));

function script(name: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const res = spawnSync('bash', [path.join(repoRoot, 'scripts', name)], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: work, ...env },
  });
  if (res.error) throw res.error;
  return { status: res.status, stdout: res.stdout, stderr: res.stderr };
}

function stub(name: string, body: string): string {
  const file = path.join(work, name);
  writeFileSync(file, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/**
 * A stand-in kubectl for promote-overlay.sh: the source namespace runs `images`, kustomize is the
 * real kubectl's (put on PATH as kubectl-real), apply copies the manifest to `applied`. With
 * `createdSecrets` the target has no Secrets yet: creating them appends to that file, and an apply
 * before it fails; without it the Secrets exist.
 */
function promoteKubectl(
  name: string,
  o: { source: string; target: string; images: string[]; deployment: string; applied: string; createdSecrets?: string },
): string {
  const created = o.createdSecrets;
  const kubectl = stub(
    name,
    [
      'case "$*" in',
      `  "--namespace ${o.source} get deployments "*) printf '${o.images.join('\\n')}\\n' ;;`,
      '  kustomize*) exec kubectl-real "$@" ;;',
      created === undefined
        ? `  apply*) cp "\${@: -1}" ${JSON.stringify(o.applied)} ;;`
        : `  apply*) [ -f ${JSON.stringify(created)} ] || { echo "applied before the Secrets exist" >&2; exit 7; }; cp "\${@: -1}" ${JSON.stringify(o.applied)} ;;`,
      `  "--namespace ${o.target} get secret "*) exit ${created === undefined ? 0 : 1} ;;`,
      ...(created === undefined ? [] : [`  "--namespace ${o.target} create -f -") cat >> ${JSON.stringify(created)} ;;`]),
      `  "--namespace ${o.target} get deployments -o name") echo deployment.apps/${o.deployment} ;;`,
      '  *rollout*) echo "rolled out" ;;',
      '  *) echo "unexpected: $*" >&2; exit 9 ;;',
      'esac',
    ].join('\n'),
  );
  const real = spawnSync('bash', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
  assert.ok(real, 'kubectl (for its built-in kustomize) is on PATH');
  stub('kubectl-real', `exec ${real} "$@"`);
  return kubectl;
}

describe('delivery scripts', () => {
  test('select-services.sh maps changed filters to images, and nothing to nothing', () => {
    const out = path.join(work, 'select-out');
    writeFileSync(out, '');
    let res = script('select-services.sh', { CHANGES: '["shared","audit-log-analysis","chart"]', GITHUB_OUTPUT: out });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(readFileSync(out, 'utf8').trim(), 'services=["audit-log-analysis"]');
    writeFileSync(out, '');
    res = script('select-services.sh', { CHANGES: '["chart"]', GITHUB_OUTPUT: out });
    assert.equal(readFileSync(out, 'utf8').trim(), 'services=[]');
    writeFileSync(out, '');
    res = script('select-services.sh', { CHANGES: '[]', BUILD_ALL: 'true', GITHUB_OUTPUT: out });
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8').trim().replace(/^services=/, '')), SERVICES);
  });

  test('image-digests.sh completes the digest set and tags it registry-side, arm64 required', () => {
    const log = path.join(work, 'docker.log');
    const platforms = (arm: boolean) =>
      JSON.stringify({
        digest: digest('e'),
        manifests: [{ platform: { os: 'linux', architecture: 'amd64' } }, ...(arm ? [{ platform: { os: 'linux', architecture: 'arm64' } }] : [])],
      });
    const docker = (arm: boolean) =>
      stub(
        'docker',
        [
          `echo "$*" >> ${JSON.stringify(log)}`,
          'if [ "$1 $2 $3" = "buildx imagetools inspect" ]; then',
          `  printf '%s\n' ${JSON.stringify(platforms(arm))}`,
          'fi',
        ].join('\n'),
      );
    docker(true);
    const dir = mkdtempSync(path.join(work, 'digests-'));
    writeFileSync(path.join(dir, 'audit-log-analysis'), `${digest('b')}\n`);
    const out = path.join(work, 'digests-out');
    writeFileSync(out, '');
    writeFileSync(log, '');
    const env = { REGISTRY: 'docker.io', IMAGE_ORG: 'auditflow', SOURCE_TAG: 'main', TARGET_TAG: 'sha-0123abc', DIGEST_DIR: dir, GITHUB_OUTPUT: out, PATH: `${work}:${process.env.PATH}` };
    const res = script('image-digests.sh', env);
    assert.equal(res.status, 0, res.stderr);
    const digests = JSON.parse(readFileSync(out, 'utf8').trim().replace(/^digests=/, '')) as Record<string, string>;
    assert.deepEqual(Object.keys(digests), SERVICES);
    assert.equal(digests['audit-log-analysis'], digest('b'), 'a freshly built digest wins');
    assert.equal(digests['audit-event-generator'], digest('e'), 'unchanged services come from the source tag');
    const calls = readFileSync(log, 'utf8');
    assert.match(calls, /buildx imagetools inspect docker\.io\/auditflow\/audit-event-generator:main /);
    assert.doesNotMatch(calls, /imagetools inspect docker\.io\/auditflow\/audit-log-analysis:main/);
    for (const s of SERVICES) {
      assert.ok(calls.includes(`buildx imagetools create --tag docker.io/auditflow/${s}:sha-0123abc docker.io/auditflow/${s}@${digests[s]}`), s);
    }
    assert.doesNotMatch(calls, /^(pull|push|tag)\b/m, 'no single-architecture pull/tag/push');

    docker(false);
    writeFileSync(log, '');
    const amd64Only = script('image-digests.sh', { ...env, GITHUB_OUTPUT: path.join(work, 'ignored') });
    assert.equal(amd64Only.status, 1);
    assert.match(amd64Only.stderr, /no linux\/arm64 image/);
    assert.doesNotMatch(readFileSync(log, 'utf8'), /imagetools create/, 'nothing is tagged before the check');
    assert.equal(script('image-digests.sh', { ...env, TARGET_TAG: 'bad tag;rm' }).status, 1);
  });

  test('deploy-helm.sh installs atomically by digest, then runs helm test', () => {
    const log = path.join(work, 'helm.log');
    const helm = stub('helm', `echo "$*" >> ${JSON.stringify(log)}`);
    const digests = Object.fromEntries(SERVICES.map((s) => [s, digest('a')]));
    const res = script('deploy-helm.sh', { HELM: helm, NAMESPACE: 'dev', VALUES_FILE: 'values-dev.yaml', DIGESTS: JSON.stringify(digests) });
    assert.equal(res.status, 0, res.stderr);
    const [install, helmTest] = readFileSync(log, 'utf8').trim().split('\n');
    assert.match(install ?? '', /^upgrade --install afp k8s\/charts\/auditflow-platform --namespace dev /);
    assert.match(install ?? '', / --atomic --wait /);
    assert.doesNotMatch(install ?? '', /--create-namespace/);
    for (const s of SERVICES) assert.ok(install?.includes(`--set-string ${s}.image.digest=${digest('a')}`), s);
    assert.match(helmTest ?? '', /^test afp --namespace dev /);
  });

  test('deploy-helm.sh refuses a tag, a missing service or an unknown values file', () => {
    const helm = stub('helm-never', 'echo "helm must not run" >&2; exit 3');
    const tagged = { ...Object.fromEntries(SERVICES.map((s) => [s, digest('a')])), 'audit-log-analysis': 'main' };
    let res = script('deploy-helm.sh', { HELM: helm, NAMESPACE: 'dev', VALUES_FILE: 'values-dev.yaml', DIGESTS: JSON.stringify(tagged) });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /no valid digest for audit-log-analysis/);
    res = script('deploy-helm.sh', { HELM: helm, NAMESPACE: 'dev', VALUES_FILE: 'values-dev.yaml', DIGESTS: '{}' });
    assert.equal(res.status, 1);
    res = script('deploy-helm.sh', { HELM: helm, NAMESPACE: 'dev', VALUES_FILE: '../../etc/passwd', DIGESTS: '{}' });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /no values file/);
  });

  test('promote-overlay.sh creates the missing Secrets, then applies the overlay with the digests running in the source environment', () => {
    const applied = path.join(work, 'applied.yaml');
    const created = path.join(work, 'created-secrets.yaml');
    const images = SERVICES.map((s, i) => `docker.io/auditflow/${s}:v1.0.0@${digest('0123'[i] ?? 'f')}`);
    const kubectl = promoteKubectl('kubectl', {
      source: 'staging',
      target: 'preprod',
      images: [...images, 'docker.io/library/postgres:17-alpine'],
      deployment: 'afp-audit-log-analysis',
      applied,
      createdSecrets: created,
    });
    // The real helm renders the Secrets (an earlier test put a stand-in `helm` on PATH).
    const helm = path.join(repoRoot, '.tools', 'bin', 'helm');
    const res = script('promote-overlay.sh', { TARGET: 'preprod', KUBECTL: kubectl, HELM: helm, PATH: `${work}:${process.env.PATH}` });
    assert.equal(res.status, 0, res.stderr);
    const manifest = readFileSync(applied, 'utf8');
    SERVICES.forEach((s, i) => {
      assert.ok(manifest.includes(`image: docker.io/auditflow/${s}@${digest('0123'[i] ?? 'f')}`), s);
    });
    assert.doesNotMatch(manifest, /image: docker\.io\/auditflow\/[a-z-]+:v?1\.0\.0\n/, 'no service image is left on its tag');
    // Every Secret the overlay's pods read was created first, so the first rollout can succeed.
    const secrets = readFileSync(created, 'utf8');
    const referenced = new Set([...manifest.matchAll(/secretKeyRef:\n\s+key: \S+\n\s+name: (\S+)/g), ...manifest.matchAll(/secretName: (\S+)/g)].map((m) => m[1]));
    assert.ok(referenced.size >= 4, [...referenced].join(' '));
    for (const name of referenced) assert.match(secrets, new RegExp(`^  name: ${name}$`, 'm'), `${name} is not created: ${secrets.slice(0, 300)}`);
  });

  test('promote-overlay.sh promotes images of an operator\'s own registry and organisation, never the base tag', () => {
    const applied = path.join(work, 'applied-own-org.yaml');
    const images = SERVICES.map((s, i) => `ghcr.io/homelab/${s}:v1.0.0@${digest('4567'[i] ?? 'f')}`);
    const kubectl = promoteKubectl('kubectl-own-org', { source: 'preprod', target: 'prod', images, deployment: 'afp-audit-ingest', applied });
    const helm = path.join(repoRoot, '.tools', 'bin', 'helm');
    const res = script('promote-overlay.sh', { TARGET: 'prod', REGISTRY: 'ghcr.io', IMAGE_ORG: 'homelab', KUBECTL: kubectl, HELM: helm, PATH: `${work}:${process.env.PATH}` });
    assert.equal(res.status, 0, res.stderr);
    const manifest = readFileSync(applied, 'utf8');
    SERVICES.forEach((s, i) => {
      assert.ok(manifest.includes(`image: ghcr.io/homelab/${s}@${digest('4567'[i] ?? 'f')}`), `${s} runs the promoted digest from the operator's registry`);
    });
    assert.doesNotMatch(manifest, /image: docker\.io\/auditflow\//, 'nothing falls back to the base image');
  });

  test('promote-overlay.sh refuses a source that does not run digest-pinned images', () => {
    const kubectl = stub(
      'kubectl-tags',
      `case "$*" in "--namespace preprod get deployments "*) printf 'docker.io/auditflow/audit-event-generator:main\\n' ;; *) exit 9 ;; esac`,
    );
    const res = script('promote-overlay.sh', { TARGET: 'prod', KUBECTL: kubectl });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /does not run exactly one digest-pinned/);
    assert.equal(script('promote-overlay.sh', { TARGET: 'staging', KUBECTL: kubectl }).status, 1);
  });

  test('k3d-up.sh creates a cluster on the pinned K3s with every environment NodePort published', () => {
    const res = script('k3d-up.sh', { DRY_RUN: '1' });
    assert.equal(res.status, 0, res.stderr);
    const version = /^k3s_version: (\S+)$/m.exec(readFileSync(path.join(repoRoot, 'infra/ansible/inventory/group_vars/k3s_cluster/main.yml'), 'utf8'))?.[1] ?? '';
    assert.match(res.stdout, new RegExp(`^k3d cluster create auditflow --image docker\\.io/rancher/k3s:${version.replace('+', '-')} `, 'm'));
    for (const port of [30080, 30090, 30091, 30092]) assert.ok(res.stdout.includes(`--port ${port}:${port}@loadbalancer`), String(port));
    for (const ns of ['dev', 'staging', 'preprod', 'prod']) assert.ok(res.stdout.includes(`kubectl label namespace ${ns} --overwrite pod-security.kubernetes.io/enforce=restricted`), ns);
    assert.equal(script('k3d-up.sh', { DRY_RUN: '1', CLUSTER: 'Bad_Name' }).status, 1);
  });
});
