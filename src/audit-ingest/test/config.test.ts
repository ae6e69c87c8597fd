import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { ConfigError } from '@auditflow/common';
import { loadIngestConfig } from '../src/config.ts';

const variablesOf = (env: Record<string, string>): string[] => {
  try {
    loadIngestConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.variables;
  }
  return [];
};

describe('audit-ingest configuration', () => {
  test('defaults: ports 5002/8002/5514, audit_events and its DLQ', () => {
    const config = loadIngestConfig({ INGEST_TOKENS: 'a-token-of-sixteen-chars' });
    assert.deepEqual([config.appPort, config.metricsPort, config.syslogPort, config.queue, config.deadLetterQueue], [5002, 8002, 5514, 'audit_events', 'audit_events.dlq']);
    assert.equal(config.allowUnauthenticated, false);
  });

  test('secure by default: without tokens, a client CA or INGEST_AUTH=none the start fails naming INGEST_TOKENS', () => {
    assert.deepEqual(variablesOf({}), ['INGEST_TOKENS']);
    assert.deepEqual(variablesOf({ INGEST_TOKENS: 'short' }), ['INGEST_TOKENS']);
  });

  test('every bad variable is named at once', () => {
    assert.deepEqual(
      variablesOf({ INGEST_AUTH: 'none', SYSLOG_PORT: '70000', INGEST_TLS_CERT_FILE: '/nonexistent.pem', SYSLOG_TIMEZONE: 'Mars/Olympus', INGEST_MAX_BATCH_EVENTS: '0' }).sort(),
      ['INGEST_MAX_BATCH_EVENTS', 'INGEST_TLS_CERT_FILE', 'SYSLOG_PORT', 'SYSLOG_TIMEZONE'],
    );
  });

  test('the standalone process exits 78 naming the variable (RABBITMQ_HOST is required alone)', () => {
    const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
    const result = spawnSync(process.execPath, ['--conditions=source', main], { env: { PATH: process.env['PATH'] ?? '', INGEST_AUTH: 'none' }, encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 78);
    assert.match(result.stdout, /RABBITMQ_HOST/);
  });
});
