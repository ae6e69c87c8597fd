import {
  ConfigError,
  createLogger,
  type Env,
  EnvReader,
  MemoryBroker,
  readRabbitConfig,
} from '@auditflow/common';
import { loadRulesFile, RulesError } from '@auditflow/audit-log-analysis';
import { publishScenario, SCENARIOS } from '@auditflow/audit-event-generator';
import {
  assertDatabaseReachable,
  createPgliteSqlClient,
  createPostgresSqlClient,
  readPostgresConfig,
  runMigrations,
} from '@auditflow/notification-service';
import { UsageError } from './args.ts';

export interface Output {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** `auditflow rules validate <file>`: exit 0 when valid, 1 with file:line:col lines otherwise. */
export async function validateRules(file: string, io: Output): Promise<number> {
  try {
    const rules = await loadRulesFile(file);
    const alerting = rules.rules.length;
    io.out(
      `${file}: OK, ${alerting} rules (${rules.detections.length} detection, ${rules.correlations.length} correlation)`,
    );
    return 0;
  } catch (error) {
    if (error instanceof RulesError) {
      for (const p of error.problems) io.err(`${error.fileName}:${p.line}:${p.column}: ${p.message}`);
      io.err(`${error.problems.length} problem${error.problems.length === 1 ? '' : 's'} in ${error.fileName}`);
      return 1;
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      io.err(`${file}: no such file`);
      return 1;
    }
    throw error;
  }
}

/** `auditflow migrate`: the notification-service migrations, on PostgreSQL or the embedded PGlite. */
export async function migrate(env: Env, io: Output): Promise<number> {
  const reader = new EnvReader(env);
  const postgres = readPostgresConfig(reader);
  const variable = reader.has('DATABASE_URL') ? 'DATABASE_URL' : 'PG_HOST/PG_PORT/PG_DB';
  reader.done();
  const logger = createLogger({ service: 'auditflow', level: 'warn' });
  if (postgres.url) await assertDatabaseReachable(postgres.url, variable);
  // PGlite: refused with the holder's PID while a running start has the data directory open.
  const client = postgres.url
    ? createPostgresSqlClient(postgres, logger, 'auditflow-migrate')
    : await createPgliteSqlClient(postgres.dataDir);
  try {
    const applied = await runMigrations(client);
    io.out(applied.length > 0 ? `applied migrations ${applied.join(', ')}` : 'schema is up to date');
    return 0;
  } finally {
    await client.close();
  }
}

/**
 * `auditflow generate`: straight to RabbitMQ when one is configured, otherwise
 * through the HTTP API of a running generator (an all-in-one started elsewhere).
 */
export async function generate(
  env: Env,
  command: { scenario: string | undefined; rate: number | undefined; list: boolean },
  io: Output,
): Promise<number> {
  if (command.list || command.scenario === undefined) {
    for (const s of SCENARIOS) io.out(`${s.name.padEnd(26)} → ${s.expectedRules.join(', ').padEnd(26)} ${s.description}`);
    return 0;
  }
  const name = command.scenario;
  if (!SCENARIOS.some((s) => s.name === name)) {
    throw new UsageError(`unknown scenario "${name}"; one of ${SCENARIOS.map((s) => s.name).join(', ')}`);
  }
  const reader = new EnvReader(env);
  const rabbit = readRabbitConfig(reader, 1);
  const queue = reader.string('RABBITMQ_QUEUE', 'audit_events');
  // The all-in-one's GENERATOR_PORT says where its generator listens; GENERATOR_URL names any other one.
  const generatorUrl = reader.string('GENERATOR_URL', `http://127.0.0.1:${reader.port('GENERATOR_PORT', 5000)}`);
  reader.done();
  const expected = SCENARIOS.find((s) => s.name === name)?.expectedRules ?? [];
  if (rabbit.url) {
    const { createAmqpBroker } = await import('@auditflow/common');
    const broker = createAmqpBroker(rabbit.url, rabbit, createLogger({ service: 'auditflow', level: 'warn' }), 'auditflow-cli');
    try {
      await broker.declareQueues([queue]);
      const run = await publishScenario(broker, queue, name, command.rate ? { rate: command.rate } : {});
      io.out(`published ${run.events.length} events of ${name} to ${queue}; expect ${expected.join(', ')}`);
      return 0;
    } finally {
      await broker.close();
    }
  }
  if (command.rate !== undefined) io.err('--rate applies when publishing to RabbitMQ directly; the generator API paces nothing');
  const response = await fetch(`${generatorUrl}/scenarios/${encodeURIComponent(name)}`, { method: 'POST' }).catch(
    (error: unknown) => {
      throw new ConfigError([
        {
          variable: 'RABBITMQ_URL',
          problem: `no broker configured and no generator answers at ${generatorUrl} (${(error as Error).message}); set RABBITMQ_URL or GENERATOR_URL`,
        },
      ]);
    },
  );
  const body = (await response.json()) as { events?: string[]; detail?: string };
  if (response.status !== 202) {
    io.err(`generator refused the scenario: HTTP ${response.status} ${body.detail ?? ''}`);
    return 1;
  }
  io.out(`generator at ${generatorUrl} ran ${name} (${body.events?.length ?? 0} events); expect ${expected.join(', ')}`);
  return 0;
}

export { MemoryBroker };
