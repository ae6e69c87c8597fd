// Static checks of every service Dockerfile: dockerfile-utils lint, plus the image policy of
// issue 6 (digest-pinned Node 24 base, multi-stage, production dependencies only, numeric
// non-root user, exec-form node entrypoint) and the .dockerignore that guards the root context.

import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validate } from 'dockerfile-utils';
import { execForm, parseDockerfile, splitFlags, substitute, tokenize } from './lib/dockerfile.ts';
import { isIgnored, parseDockerignore } from './lib/dockerignore.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SERVICES = ['audit-event-generator', 'audit-log-analysis', 'notification-service', 'event-audit-dashboard', 'audit-ingest'];
const DIGEST_PINNED = /^(?:docker\.io\/library\/)?node:24[\w.-]*-slim@sha256:[0-9a-f]{64}$/;

const DOCKERFILE = path.join(repoRoot, 'Dockerfile');

/** Every Dockerfile in the repository outside dependencies: there must be exactly one. */
async function dockerfiles(): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (['node_modules', '.git', '.tools', 'dist'].includes(e.name)) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (e.name === 'Dockerfile' || e.name.endsWith('.Dockerfile')) out.push(full);
    }
  };
  await walk(repoRoot);
  return out.sort();
}

describe('Dockerfiles', () => {
  test('one Dockerfile builds every service: ARG SERVICE and a final stage per service, all in docker-bake.hcl', async () => {
    assert.deepEqual(await dockerfiles(), [DOCKERFILE]);
    const parsed = parseDockerfile(await readFile(DOCKERFILE, 'utf8'));
    assert.ok(parsed.globalArgs.has('SERVICE'), 'ARG SERVICE before the first FROM');
    for (const svc of SERVICES) assert.ok(parsed.stages.some((s) => s.name === svc), `stage ${svc}`);
    const bake = await readFile(path.join(repoRoot, 'docker-bake.hcl'), 'utf8');
    assert.match(bake, /dockerfile = "Dockerfile"/);
    assert.match(bake, /target {5}= svc/);
    assert.match(bake, /args {7}= \{ SERVICE = svc \}/);
    for (const svc of SERVICES) assert.ok(bake.includes(`"${svc}"`), `bake builds ${svc}`);
  });

  test('dockerfile-utils reports nothing for any Dockerfile', async () => {
    for (const file of await dockerfiles()) {
      const problems = validate(await readFile(file, 'utf8'));
      const text = problems.map((p) => `${path.relative(repoRoot, file)}:${p.range.start.line + 1}: ${p.message}`);
      assert.deepEqual(text, [], text.join('\n'));
    }
  });

  test('the linter does fail on a broken Dockerfile', () => {
    // Guards against a linter that silently accepts everything.
    assert.ok(validate('FROM\nCOPY onlyonearg\nEXPOSE notaport\n').length > 0);
  });

  for (const svc of SERVICES) {
    test(`${svc}: image policy`, async () => {
      const text = await readFile(DOCKERFILE, 'utf8');
      const full = parseDockerfile(text);
      // The stages a `--target ${svc}` build runs: the chain up to that stage.
      const upTo = full.stages.findIndex((s) => s.name === svc);
      assert.ok(upTo >= 0, `no stage ${svc}`);
      const parsed = { ...full, stages: full.stages.slice(0, upTo + 1).filter((s, i, all) => i === all.length - 1 || !SERVICES.includes(s.name ?? '')) };
      assert.ok(parsed.stages.length >= 2, 'multi-stage build');
      const names = new Set(parsed.stages.map((s) => s.name).filter((n) => n !== undefined));
      for (const stage of parsed.stages) {
        if (!names.has(stage.from.toLowerCase())) {
          assert.match(stage.from, DIGEST_PINNED, `stage ${stage.name ?? stage.index} base must be Node 24 slim pinned by digest`);
        }
      }
      const bases = new Set(parsed.stages.filter((s) => !names.has(s.from.toLowerCase())).map((s) => s.from));
      assert.equal(bases.size, 1, 'all stages share one base so build and runtime Node never differ');

      // The service's stage builds on the shared runtime stage: check them as one.
      const target = parsed.stages.at(-1)!;
      const runtime = parsed.stages.find((s) => s.name === target.from.toLowerCase());
      const final = { ...target, instructions: [...(runtime?.instructions ?? []), ...target.instructions] };
      const vars = new Map([['SERVICE', svc]]);
      const runs = final.instructions.filter((i) => i.keyword === 'RUN');
      assert.deepEqual(runs, [], 'the runtime stage runs nothing: no package manager, no build tools');
      const users = final.instructions.filter((i) => i.keyword === 'USER');
      assert.equal(users.length, 1, 'one USER in the runtime stage');
      assert.match(users[0]!.args, /^[1-9][0-9]*:[1-9][0-9]*$/, 'numeric non-root uid:gid');
      const entry = final.instructions.findLast((i) => i.keyword === 'ENTRYPOINT');
      const cmd = final.instructions.findLast((i) => i.keyword === 'CMD');
      assert.deepEqual(execForm(entry?.args ?? ''), ['node'], 'exec-form node entrypoint');
      assert.deepEqual(execForm(cmd?.args ?? ''), ['dist/main.js']);
      const stop = final.instructions.find((i) => i.keyword === 'STOPSIGNAL');
      assert.equal(stop?.args, 'SIGTERM');
      const workdir = final.instructions.findLast((i) => i.keyword === 'WORKDIR');
      assert.equal(substitute(workdir?.args ?? '', vars), `/app/src/${svc}`, 'WORKDIR is the service folder');

      const all = tokenize(text);
      const prodInstall = all.filter((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args) && /--omit=dev/.test(i.args));
      assert.equal(prodInstall.length, 1, 'exactly one production-only npm ci');
      assert.match(substitute(prodInstall[0]!.args, vars), new RegExp(`--workspace(?:=|\\s+)"?src/${svc}\\b`), 'production install is scoped to the service');
      for (const ins of all.filter((i) => i.keyword === 'RUN' && /\bnpm (?:ci|install)\b/.test(i.args))) {
        assert.match(ins.args, /--ignore-scripts/, `line ${ins.line}: lifecycle scripts stay off`);
        assert.doesNotMatch(ins.args, /\bnpm install\b/, `line ${ins.line}: npm ci only, the lockfile is the truth`);
      }
      for (const ins of all.filter((i) => i.keyword === 'ADD')) assert.fail(`line ${ins.line}: use COPY, not ADD`);
      for (const ins of final.instructions.filter((i) => i.keyword === 'COPY')) {
        const { flags } = splitFlags(ins.args);
        assert.ok(flags.has('from'), `line ${ins.line}: the runtime stage only copies from build stages`);
        assert.ok(!flags.has('chown'), `line ${ins.line}: application files stay root-owned and read-only for the service user`);
      }
      assert.match(text, /^# syntax=docker\/dockerfile:1\.\d+$/m, 'pinned Dockerfile frontend');
    });
  }

  test('no production dependency needs an install script (they are installed with --ignore-scripts)', async () => {
    const lock = JSON.parse(await readFile(path.join(repoRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; hasInstallScript?: boolean }>;
    };
    const offenders = Object.entries(lock.packages)
      .filter(([name, p]) => name !== '' && p.hasInstallScript === true && p.dev !== true)
      .map(([name]) => name);
    assert.deepEqual(offenders, []);
  });

  test('the root .dockerignore admits only build inputs', async () => {
    const rules = parseDockerignore(await readFile(path.join(repoRoot, '.dockerignore'), 'utf8'));
    for (const kept of [
      'package.json',
      'package-lock.json',
      '.npmrc',
      'tsconfig.base.json',
      'src/common/package.json',
      'src/common/src/index.ts',
      'src/notification-service/src/main.ts',
    ]) {
      assert.equal(isIgnored(rules, kept), false, `${kept} must reach the build`);
    }
    for (const dropped of [
      '.git/config',
      '.env',
      'src/notification-service/.env',
      'node_modules/typescript/package.json',
      'src/common/node_modules/ajv-formats/package.json',
      'src/common/dist/index.js',
      'src/common/test/config.test.ts',
      'infra/ansible/inventory/group_vars/all/vault.yml',
      'k8s/charts/auditflow-platform/values.yaml',
      'tests/delivery/image-build.test.ts',
      '.tools/bin/helm',
    ]) {
      assert.equal(isIgnored(rules, dropped), true, `${dropped} must stay out of the build context`);
    }
  });
});
