// docs/configuration.md's declared tables are generated from the code: regenerating changes nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { CONFIGURATION_DOC, DECLARED_BLOCKS, renderConfigurationDoc } from '../../../scripts/generate-config-docs.ts';
import { ALL_IN_ONE_ENV } from '../src/all-in-one-env.ts';
import { readLayout } from '../src/all-in-one.ts';

test('docs/configuration.md is what the declarations generate (run scripts/generate-config-docs.ts)', () => {
  const current = readFileSync(CONFIGURATION_DOC, 'utf8');
  assert.equal(renderConfigurationDoc(current), current);
  for (const [id, spec] of Object.entries(DECLARED_BLOCKS)) {
    for (const name of Object.keys(spec)) assert.match(current, new RegExp(`\\| \`${name}\` \\|`), `${id}: ${name} is not in the document`);
  }
});

test('a changed declaration shows up as a changed document', () => {
  const current = readFileSync(CONFIGURATION_DOC, 'utf8');
  const doctored = current.replace('| `SYSLOG_PORT` | `5514` |', '| `SYSLOG_PORT` | `514` |');
  assert.notEqual(doctored, current);
  assert.equal(renderConfigurationDoc(doctored), current);
});

test("the all-in-one's port check claims every declared port: audit-ingest's three included, SYSLOG_PORT for UDP too", () => {
  const layout = readLayout({ INGEST_PORT: '15002', SYSLOG_PORT: '15514', BIND_HOST: '127.0.0.2' });
  const claims = new Map(layout.claims.map((claim) => [claim.variable, claim]));
  const declaredPorts = Object.entries(ALL_IN_ONE_ENV).filter(([, v]) => v.type === 'port').map(([name]) => name);
  assert.deepEqual([...claims.keys()], declaredPorts);
  assert.deepEqual(claims.get('INGEST_PORT'), { port: 15002, host: '127.0.0.2', variable: 'INGEST_PORT' });
  assert.deepEqual(claims.get('INGEST_METRICS_PORT'), { port: 8003, host: '127.0.0.2', variable: 'INGEST_METRICS_PORT' });
  assert.deepEqual(claims.get('SYSLOG_PORT'), { port: 15514, host: '127.0.0.2', variable: 'SYSLOG_PORT', udp: true });
  assert.throws(() => readLayout({ SYSLOG_PORT: '70000' }), /SYSLOG_PORT: must be <= 65535/);
});

test('the converted configurations read no variable their declarations lack', async () => {
  const { BASE_ENV, RABBIT_ENV } = await import('@auditflow/common/platform');
  const { GENERATOR_ENV } = await import('@auditflow/audit-event-generator/config');
  const { DASHBOARD_ENV } = await import('@auditflow/event-audit-dashboard/config');
  const { REDIS_ENV } = await import('@auditflow/audit-log-analysis/redis-config');
  const { POSTGRES_ENV } = await import('@auditflow/notification-service/postgres-config');
  const { NOTIFICATION_ENV } = await import('@auditflow/notification-service/config');
  const files: [string, object[]][] = [
    ['src/common/src/config.ts', [BASE_ENV, RABBIT_ENV]],
    ['src/audit-event-generator/src/config.ts', [GENERATOR_ENV, BASE_ENV, RABBIT_ENV]],
    ['src/event-audit-dashboard/src/config.ts', [DASHBOARD_ENV]],
    ['src/audit-log-analysis/src/redis-config.ts', [REDIS_ENV]],
    ['src/notification-service/src/postgres-config.ts', [POSTGRES_ENV]],
    ['src/notification-service/src/config.ts', [NOTIFICATION_ENV, POSTGRES_ENV, BASE_ENV, RABBIT_ENV]],
  ];
  const root = new URL('../../../', import.meta.url);
  for (const [file, specs] of files) {
    const declared = new Set(specs.flatMap((spec) => Object.keys(spec)));
    const text = readFileSync(new URL(file, root), 'utf8');
    const read = [...text.matchAll(/reader\.(\w+)\('([A-Z][A-Z0-9_]*)'/g)].map((m) => m[2]!);
    assert.deepEqual(read.filter((name) => !declared.has(name)), [], `${file} reads undeclared variables`);
  }
});
