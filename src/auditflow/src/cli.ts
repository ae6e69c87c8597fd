#!/usr/bin/env node
import { AuditFlowError, ConfigError, EXIT_CONFIG, StartupError } from '@auditflow/common';
import { sizeMemory } from '@auditflow/common/memory/self-size';
import { parseCommand, UsageError } from './args.ts';
import { generate, migrate, validateRules } from './commands.ts';
import { HELP } from './help.ts';

const io = {
  out: (line: string) => process.stdout.write(`${line}\n`),
  err: (line: string) => process.stderr.write(`${line}\n`),
};

async function main(argv: readonly string[]): Promise<number | undefined> {
  const command = parseCommand(argv);
  switch (command.kind) {
    case 'help':
      io.out(HELP);
      return 0;
    case 'rules-validate':
      return validateRules(command.file, io);
    case 'migrate':
      return migrate(process.env, io);
    case 'generate':
      return generate(process.env, command, io);
    case 'start':
      // The heap of the one process sized for what it runs: one service's budget or the all-in-one's.
      sizeMemory(command.only ?? 'auditflow');
      if (command.only) {
        // Exactly what the service's container runs.
        await import(`@auditflow/${command.only}/main`);
        return undefined;
      }
      await (await import('./all-in-one.ts')).runAllInOne(process.env);
      return undefined;
  }
}

try {
  const code = await main(process.argv.slice(2));
  if (code !== undefined) process.exitCode = code;
} catch (error) {
  // Start-up failures a person fixes: one line naming the problem and the variable, no stack.
  if (error instanceof ConfigError) {
    io.err(`auditflow: ${error.message}`);
    process.exit(EXIT_CONFIG);
  } else if (error instanceof StartupError) {
    io.err(`auditflow: ${error.message}`);
    // Exit now: a half-made start may hold timers or sockets that would keep the process up.
    process.exit(error.exitCode);
  } else if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    io.err(`auditflow: ${(error as Error).message}\nsee auditflow --help`);
    process.exitCode = 2;
  } else if (error instanceof AuditFlowError) {
    io.err(`auditflow: ${error.code}: ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
