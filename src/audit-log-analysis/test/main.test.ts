import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function runMain(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(RABBITMQ|REDIS|RULES|ENRICHMENT)_|^HOSTS_FILE$/.test(key)));
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

test('an unusable enrichment database or hosts file exits 78 naming its variable, before anything connects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'enrichment-'));
  try {
    const corrupt = join(dir, 'country.mmdb');
    writeFileSync(corrupt, 'garbage');
    const hosts = join(dir, 'hosts.yaml');
    writeFileSync(hosts, 'hosts:\n  pi-1:\n    addresses: [nope]\n');
    // Port 1 refuses connections: the start must stop at the configuration, not there.
    const result = runMain({ RABBITMQ_URL: 'amqp://127.0.0.1:1', REDIS_URL: 'redis://127.0.0.1:1', ENRICHMENT_COUNTRY_DATABASE: corrupt, HOSTS_FILE: hosts });
    assert.equal(result.status, 78, result.stdout + result.stderr);
    assert.match(result.stdout, /ENRICHMENT_COUNTRY_DATABASE: .*country\.mmdb is not a readable MaxMind DB file/);
    assert.ok(result.stdout.includes(`HOSTS_FILE: ${hosts}:3:17: 'nope' is not an IPv4 or IPv6 address`), result.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
