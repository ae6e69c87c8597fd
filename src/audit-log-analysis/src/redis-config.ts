import type { EnvReader } from '@auditflow/common';

/** Redis for the sliding windows: REDIS_URL, or the original split REDIS_* variables. */
export interface RedisConfig {
  url: string | undefined;
  keyPrefix: string;
}

export function readRedisConfig(reader: EnvReader): RedisConfig {
  const keyPrefix = reader.string('REDIS_KEY_PREFIX', 'af:');
  const url = reader.url('REDIS_URL', ['redis:', 'rediss:']);
  if (url) return { url: url.toString(), keyPrefix };
  const host = reader.raw('REDIS_HOST');
  if (host === undefined) return { url: undefined, keyPrefix };
  const port = reader.port('REDIS_PORT', 6379);
  const db = reader.int('REDIS_DB', 0, { min: 0, max: 15 });
  const password = reader.raw('REDIS_PASSWORD');
  const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
  return { url: `redis://${auth}${host}:${port}/${db}`, keyPrefix };
}
