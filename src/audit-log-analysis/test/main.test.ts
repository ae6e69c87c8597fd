import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function runMain(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(RABBITMQ|REDIS|RULES)_/.test(key)));
  return spawnSync(`${ROOT}node_modules/.bin/node`, ['--conditions=source', 'src/audit-log-analysis/src/main.ts'], {
    cwd: ROOT,
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
}

test('standalone mode exits 78 naming the missing broker and Redis variables', () => {
  const result = runMain({});
  assert.equal(result.status, 78);
  assert.match(result.stdout, /RABBITMQ_HOST/);
  assert.match(result.stdout, /REDIS_HOST/);
});

test('an invalid rules file exits 78 naming RULES_FILE with file:line:column problems', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-'));
  try {
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, 'title: x\nid: r1\nlevel: extreme\ndetection:\n  s: { user_id: a }\n  condition: s\n');
    const result = runMain({ RABBITMQ_HOST: '127.0.0.1', REDIS_HOST: '127.0.0.1', RULES_FILE: file });
    assert.equal(result.status, 78);
    assert.match(result.stdout, /RULES_FILE/);
    assert.ok(result.stdout.includes(`${file}:3:8: level must be one of`), result.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
