import type { Logger } from 'pino';
import { AmqpBroker } from './broker/amqp-broker.ts';
import type { MessageBroker } from './broker/port.ts';
import { type BaseConfig, EnvReader, type Env, type RabbitConfig } from './config.ts';
import { ConfigError, EXIT_CONFIG, StartupError } from './errors.ts';
import { appliedMemoryPlan } from './memory/self-size.ts';
import { createLogger } from './logger.ts';
import { GracefulShutdown } from './shutdown.ts';

/** What a started service gives back to whoever composes it (its own main, or the all-in-one runner). */
export interface ServiceHandle {
  name: string;
  /** Where it listens, e.g. { http: 'http://127.0.0.1:5000', metrics: 'http://127.0.0.1:8000/metrics' }. */
  urls: Record<string, string>;
  /** Fails readiness, drains in-flight work, closes what the service itself opened. */
  stop(): Promise<void>;
}


/** A service started alone needs a real broker; only the all-in-one runner may embed one. */
export function requireBrokerUrl(reader: EnvReader, rabbit: RabbitConfig): string {
  if (rabbit.url === undefined) {
    reader.fail('RABBITMQ_HOST', 'is required (or RABBITMQ_URL) when the service runs on its own');
    return '';
  }
  return rabbit.url;
}

export function createAmqpBroker(url: string, rabbit: RabbitConfig, logger: Logger, name: string): MessageBroker {
  return new AmqpBroker({ url, logger: logger.child({ component: 'rabbitmq' }), connectionName: name, queueType: rabbit.queueType });
}

/**
 * The shared entry point of every service's main.ts: parse config (exit 78
 * naming the variables on failure), start, and drain on SIGTERM/SIGINT.
 */
export interface Closeable {
  close(): Promise<void>;
}

/** What a service's start may hand over to runService: closed after the service stops, or when its start fails. */
export interface OwnedResources {
  own<T extends Closeable>(resource: T): T;
}

export async function runService<C extends { base: BaseConfig }>(options: {
  name: string;
  env?: Env;
  loadConfig: (env: Env) => C;
  start: (config: C, logger: Logger, resources: OwnedResources) => Promise<ServiceHandle>;
}): Promise<void> {
  let config: C;
  try {
    config = options.loadConfig(options.env ?? process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      createLogger({ service: options.name, level: 'info' }).fatal(
        { code: error.code, variables: error.variables, problems: error.details },
        error.message,
      );
      process.exitCode = EXIT_CONFIG;
      return;
    }
    throw error;
  }
  const logger = createLogger({ service: options.name, level: config.base.logLevel });
  const shutdown = new GracefulShutdown({ logger, timeoutMs: config.base.shutdownTimeoutMs });
  shutdown.installSignalHandlers();
  const owned: Closeable[] = [];
  const closeOwned = async () => {
    for (const resource of owned.splice(0)) await resource.close().catch((error: unknown) => logger.warn({ err: error }, 'close failed'));
  };
  try {
    const handle = await options.start(config, logger, {
      own: (resource) => {
        owned.push(resource);
        return resource;
      },
    });
    shutdown.add(options.name, async () => {
      await handle.stop();
      await closeOwned();
    });
    logger.info({ urls: handle.urls, memory: appliedMemoryPlan() }, `${options.name} started`);
  } catch (error) {
    await closeOwned();
    if (error instanceof StartupError) {
      // One line a person can act on; the stack would only hide the variable to change.
      logger.fatal({ code: error.code, variable: error.variable }, error.message);
      process.exit(error.exitCode);
    }
    logger.fatal({ err: error }, `${options.name} failed to start`);
    process.exit(1);
  }
}

export { EnvReader };
