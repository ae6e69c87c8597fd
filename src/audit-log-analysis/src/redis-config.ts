import type { EnvReader } from '@auditflow/common';
import { defineEnv, envAccessors } from '@auditflow/common/platform';

/** Redis for the sliding windows (docs/configuration.md, "Redis", is generated from this). */
export const REDIS_ENV = defineEnv({
  REDIS_URL: { type: 'url', protocols: ['redis:', 'rediss:'], description: '`redis://[:password@]host:6379/db`; wins over the split form' },
  REDIS_HOST: { type: 'string', description: 'unset together with `REDIS_URL` means the in-memory window store (all-in-one mode only)' },
  REDIS_PORT: { type: 'port', default: 6379, description: '' },
  REDIS_PASSWORD: { type: 'secret', description: 'secret' },
  REDIS_DB: { type: 'int', default: 0, min: 0, max: 15, description: '' },
  REDIS_KEY_PREFIX: { type: 'string', default: 'af:', description: 'prefix of every key the service writes' },
});

/** Redis for the sliding windows: REDIS_URL, or the original split REDIS_* variables. */
export interface RedisConfig {
  url: string | undefined;
  keyPrefix: string;
}

export function readRedisConfig(reader: EnvReader): RedisConfig {
  const read = envAccessors(REDIS_ENV, reader);
  const keyPrefix = read.REDIS_KEY_PREFIX();
  const url = read.REDIS_URL();
  if (url) return { url: url.toString(), keyPrefix };
  const host = read.REDIS_HOST();
  if (host === undefined) return { url: undefined, keyPrefix };
  const port = read.REDIS_PORT();
  const db = read.REDIS_DB();
  const password = read.REDIS_PASSWORD();
  const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
  return { url: `redis://${auth}${host}:${port}/${db}`, keyPrefix };
}
