import { envAccessors, defineEnv, readEnv } from './env-spec.ts';
import { ConfigError } from './errors.ts';

export type Env = Readonly<Record<string, string | undefined>>;

interface Problem {
  variable: string;
  problem: string;
}

/**
 * Reads typed values out of an environment and collects every problem, so a
 * bad deployment reports all of its wrong variables at once, each by name.
 * Call `done()` after reading: it throws one ConfigError listing them all.
 */
export class EnvReader {
  readonly #env: Env;
  readonly #problems: Problem[] = [];

  constructor(env: Env) {
    this.#env = env;
  }

  raw(name: string): string | undefined {
    const value = this.#env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  fail(variable: string, problem: string): void {
    this.#problems.push({ variable, problem });
  }

  string(name: string, fallback: string): string;
  string(name: string): string | undefined;
  string(name: string, fallback?: string): string | undefined {
    return this.raw(name) ?? fallback;
  }

  required(name: string): string {
    const value = this.raw(name);
    if (value === undefined) {
      this.fail(name, 'is required');
      return '';
    }
    return value;
  }

  int(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
    return this.#number(name, fallback, bounds, true);
  }

  number(name: string, fallback: number, bounds: { min?: number; max?: number } = {}): number {
    return this.#number(name, fallback, bounds, false);
  }

  optionalNumber(name: string, bounds: { min?: number; max?: number } = {}): number | undefined {
    if (!this.has(name)) return undefined;
    return this.#number(name, 0, bounds, false);
  }

  port(name: string, fallback: number): number {
    return this.int(name, fallback, { min: 0, max: 65535 });
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
    if (['0', 'false', 'no', 'off'].includes(lower)) return false;
    this.fail(name, `must be true or false, got "${value}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase() as T;
    if (allowed.includes(lower)) return lower;
    this.fail(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
    return fallback;
  }

  url(name: string, protocols: readonly string[]): URL | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (!protocols.includes(url.protocol)) {
        this.fail(name, `must use ${protocols.join(' or ')}, got "${url.protocol}"`);
        return undefined;
      }
      return url;
    } catch {
      this.fail(name, 'is not a valid URL');
      return undefined;
    }
  }

  list(name: string, fallback: readonly string[] = []): string[] {
    const value = this.raw(name);
    if (value === undefined) return [...fallback];
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }

  /** Throws one ConfigError naming every bad variable seen so far. */
  done(): void {
    if (this.#problems.length > 0) throw new ConfigError(this.#problems);
  }

  #number(name: string, fallback: number, bounds: { min?: number; max?: number }, integer: boolean): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed))) {
      this.fail(name, `must be ${integer ? 'an integer' : 'a number'}, got "${value}"`);
      return fallback;
    }
    if (bounds.min !== undefined && parsed < bounds.min) {
      this.fail(name, `must be >= ${bounds.min}, got ${parsed}`);
      return fallback;
    }
    if (bounds.max !== undefined && parsed > bounds.max) {
      this.fail(name, `must be <= ${bounds.max}, got ${parsed}`);
      return fallback;
    }
    return parsed;
  }
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface BaseConfig {
  logLevel: LogLevel;
  environment: string;
  shutdownTimeoutMs: number;
}

/** The variables every service reads (docs/configuration.md, "Shared by every service"). */
export const BASE_ENV = defineEnv({
  LOG_LEVEL: { type: 'enum', values: LOG_LEVELS, default: 'info', description: 'log level, case-insensitive;' },
  ENVIRONMENT: { type: 'string', default: 'development', description: 'environment name, copied into alert metadata' },
  SHUTDOWN_TIMEOUT_MS: {
    type: 'int',
    default: 25_000,
    min: 1000,
    max: 600_000,
    description: 'how long a graceful drain may take after SIGTERM before the process exits',
  },
});

export function readBaseConfig(reader: EnvReader): BaseConfig {
  const values = readEnv(BASE_ENV, reader);
  return { logLevel: values.LOG_LEVEL, environment: values.ENVIRONMENT, shutdownTimeoutMs: values.SHUTDOWN_TIMEOUT_MS };
}

export interface RabbitConfig {
  /** Undefined means "no broker configured": only the all-in-one mode may then embed one. */
  url: string | undefined;
  queueType: 'quorum' | 'classic';
  prefetch: number;
}

/** The broker's variables (docs/configuration.md, "RabbitMQ"). */
export const RABBIT_ENV = defineEnv({
  RABBITMQ_URL: { type: 'url', protocols: ['amqp:', 'amqps:'], description: '`amqp://user:pass@host:5672/vhost`; wins over the split form' },
  RABBITMQ_HOST: {
    type: 'string',
    description: 'broker host. Unset together with `RABBITMQ_URL` means the embedded in-process broker (all-in-one mode only)',
  },
  RABBITMQ_PORT: { type: 'port', default: 5672, description: '' },
  RABBITMQ_USER: { type: 'string', default: 'guest', description: '' },
  RABBITMQ_PASS: { type: 'string', default: 'guest', description: 'secret: mount it from a Secret' },
  RABBITMQ_VHOST: { type: 'string', default: '/', description: '' },
  RABBITMQ_QUEUE_TYPE: {
    type: 'enum',
    values: ['quorum', 'classic'],
    default: 'quorum',
    description:
      'the type of the queues a service **creates**. A queue that already exists (the original services declare classic durable queues) is used as it is, whatever its type: each service declares it passively first, finds its type and logs it (`queue exists; using it as it is`, a warning when it differs from this setting), so the rewrite shares `audit_events` and `audit_alerts` with the original in either start order;',
  },
  RABBITMQ_PREFETCH: { type: 'int', default: 10, min: 1, max: 10_000, shown: 'per service', description: 'consumer prefetch' },
});

export function readRabbitConfig(reader: EnvReader, defaultPrefetch: number): RabbitConfig {
  const read = envAccessors(RABBIT_ENV, reader);
  const queueType = read.RABBITMQ_QUEUE_TYPE();
  const prefetch = reader.int('RABBITMQ_PREFETCH', defaultPrefetch, { min: RABBIT_ENV.RABBITMQ_PREFETCH.min, max: RABBIT_ENV.RABBITMQ_PREFETCH.max });
  const url = read.RABBITMQ_URL();
  if (url) return { url: url.toString(), queueType, prefetch };
  const host = read.RABBITMQ_HOST();
  if (host === undefined) return { url: undefined, queueType, prefetch };
  const port = read.RABBITMQ_PORT();
  const user = encodeURIComponent(read.RABBITMQ_USER());
  const pass = encodeURIComponent(read.RABBITMQ_PASS());
  const vhost = encodeURIComponent(read.RABBITMQ_VHOST());
  return { url: `amqp://${user}:${pass}@${host}:${port}/${vhost}`, queueType, prefetch };
}

/** Hides the password of a connection URL for logs and start-up summaries. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}
