// shellcheck over every shell script in the repository: scripts/, infra/, k8s/, .ci/run and
// any other *.sh or bash/sh-shebang file outside dependencies and build output.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SKIP_DIRS = new Set(['node_modules', '.git', '.tools', 'dist', 'coverage', 'test-results', 'reports']);

function firstLine(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(128);
    const n = readSync(fd, buf, 0, 128, 0);
    return buf.subarray(0, n).toString('utf8').split('\n')[0] ?? '';
  } finally {
    closeSync(fd);
  }
}

function shellScripts(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === '' ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...shellScripts(dir, child));
    } else if (e.isFile()) {
      const full = path.join(dir, child);
      if (child.endsWith('.sh') || child === '.ci/run' || /^#!.*\b(ba)?sh\b/.test(firstLine(full))) out.push(child);
    }
  }
  return out.sort();
}

function shellcheck(files: string[], cwd: string): { status: number | null; output: string } {
  const res = spawnSync('shellcheck', ['--external-sources', '--format=gcc', ...files], { cwd, encoding: 'utf8' });
  if (res.error) throw res.error;
  return { status: res.status, output: `${res.stdout}${res.stderr}` };
}

test('the repository has the shell scripts this check is meant to cover', () => {
  const files = shellScripts(repoRoot);
  for (const expected of ['scripts/deploy-helm.sh', 'scripts/image-digests.sh', 'scripts/promote-overlay.sh']) {
    assert.ok(files.includes(expected), `${expected} found`);
  }
});

test('shellcheck reports nothing for any shell script', () => {
  const files = shellScripts(repoRoot);
  const { status, output } = shellcheck(files, repoRoot);
  assert.equal(status, 0, output);
});

test('shellcheck does flag a broken script', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'af-shellcheck-'));
  try {
    writeFileSync(path.join(dir, 'bad.sh'), '#!/usr/bin/env bash\nrm -rf $1/*\n');
    const { status, output } = shellcheck(['bad.sh'], dir);
    assert.notEqual(status, 0);
    assert.match(output, /SC2086/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
