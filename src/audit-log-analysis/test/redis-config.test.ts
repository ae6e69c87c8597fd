import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnvReader } from '@auditflow/common';
import { readRedisConfig } from '../src/index.ts';

test('the Redis URL is assembled from the original split variables', () => {
  assert.equal(readRedisConfig(new EnvReader({ REDIS_HOST: 'r', REDIS_PORT: '6380' })).url, 'redis://r:6380/0');
  assert.equal(readRedisConfig(new EnvReader({ REDIS_HOST: 'r', REDIS_PASSWORD: 'p w' })).url, 'redis://:p%20w@r:6379/0');
  assert.equal(readRedisConfig(new EnvReader({})).url, undefined);
});

test('a Redis URL with the wrong scheme is refused by name', () => {
  const reader = new EnvReader({ REDIS_URL: 'http://x' });
  readRedisConfig(reader);
  assert.throws(() => reader.done(), /REDIS_URL/);
});
