// First: sizes the heap for this service's memory budget before anything else runs.
import './size-memory.ts';
import { accessSync, constants } from 'node:fs';
import {
  ConfigError,
  createAmqpBroker,
  createLogger,
  EXIT_CONFIG,
  type Env,
  runService,
} from '@auditflow/common';
import { createPostgresSqlClient, openAlertStore } from './adapters.ts';
import { loadNotificationConfig, loadOutputs, type NotificationConfig } from './config.ts';
import type { OutputsConfig } from './delivery/outputs-config.ts';
import { runMigrations } from './db/migrations.ts';
import { startNotificationService } from './service.ts';

const NAME = 'notification-service';

/** Standalone config: the broker and PostgreSQL are required, and a tokens file must be readable. */
function loadStandaloneConfig(env: Env): NotificationConfig & { outputs: OutputsConfig | undefined } {
  const config = loadNotificationConfig(env, { standalone: true });
  if (config.apiTokensFile !== undefined) {
    try {
      accessSync(config.apiTokensFile, constants.R_OK);
    } catch (error) {
      throw new ConfigError([{ variable: 'API_TOKENS_FILE', problem: `cannot be read: ${(error as Error).message}` }]);
    }
  }
  return { ...config, outputs: loadOutputs(config, env) };
}

/** `main.js migrate`: applies pending migrations and exits; needs only the database settings. */
async function migrateCommand(env: Env): Promise<void> {
  let config: NotificationConfig;
  try {
    config = loadNotificationConfig(env);
    if (config.postgres.url === undefined) {
      throw new ConfigError([{ variable: 'PG_HOST', problem: 'is required (or DATABASE_URL) to migrate' }]);
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger({ service: NAME, level: 'info' }).fatal({ code: error.code, variables: error.variables }, error.message);
    process.exitCode = EXIT_CONFIG;
    return;
  }
  const logger = createLogger({ service: config.serviceName, level: config.base.logLevel });
  const client = createPostgresSqlClient(config.postgres, logger, `${config.serviceName}-migrate`);
  try {
    const applied = await runMigrations(client);
    logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'schema up to date');
  } catch (error) {
    logger.fatal({ err: error }, 'migration failed');
    process.exitCode = 1;
  } finally {
    await client.close();
  }
}

const command = process.argv[2];
if (command === 'migrate') {
  await migrateCommand(process.env);
} else if (command !== undefined && command !== 'serve') {
  console.error(`usage: main.js [serve|migrate] (unknown command "${command}")`);
  process.exitCode = 64;
} else {
  await runService({
    name: NAME,
    loadConfig: loadStandaloneConfig,
    start: async (config, logger, { own }) => {
      // loadStandaloneConfig has already refused a missing broker or database.
      const broker = own(createAmqpBroker(config.rabbit.url!, config.rabbit, logger, config.serviceName));
      const store = await openAlertStore(createPostgresSqlClient(config.postgres, logger, config.serviceName), logger);
      // Once started, the service closes the store itself on stop.
      return startNotificationService({ config, logger, broker, store, outputs: config.outputs }).catch(async (error: unknown) => {
        await store.close().catch(() => undefined);
        throw error;
      });
    },
  });
}
