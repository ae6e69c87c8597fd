import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnvReader } from '@auditflow/common';
import { readPostgresConfig } from '../src/index.ts';

test('the PostgreSQL URL is assembled from the original split variables; none means PGlite in DATA_DIR', () => {
  assert.equal(
    readPostgresConfig(new EnvReader({ PG_HOST: 'db', PG_DB: 'alerts_db', PG_USER: 'u', PG_PASSWORD: 'x y' })).url,
    'postgres://u:x%20y@db:5432/alerts_db',
  );
  const embedded = readPostgresConfig(new EnvReader({}));
  assert.equal(embedded.url, undefined);
  assert.equal(embedded.dataDir, './data');
});

test('a DATABASE_URL with the wrong scheme is refused by name', () => {
  const reader = new EnvReader({ DATABASE_URL: 'mysql://x' });
  readPostgresConfig(reader);
  assert.throws(() => reader.done(), /DATABASE_URL/);
});
