import { parseArgs } from 'node:util';
import { AfCliUsageError } from '@auditflow/common';
import { SERVICE_NAMES, type ServiceName } from '@auditflow/common/platform';

/** The services `--only` takes: the manifest's (src/common/src/services.ts). */
export const SERVICES = SERVICE_NAMES;
export type { ServiceName };

export type Command =
  | { kind: 'help' }
  | { kind: 'start'; only: ServiceName | undefined }
  | { kind: 'generate'; scenario: string | undefined; rate: number | undefined; list: boolean }
  | { kind: 'rules-validate'; file: string }
  | { kind: 'migrate' };

export class UsageError extends AfCliUsageError {
  constructor(message: string) {
    super(message, { statusCode: 2 });
  }
}

export function parseCommand(argv: readonly string[]): Command {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      only: { type: 'string' },
      scenario: { type: 'string', short: 's' },
      rate: { type: 'string', short: 'r' },
      list: { type: 'boolean' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') return { kind: 'help' };
  switch (command) {
    case 'start': {
      const only = values.only;
      if (only !== undefined && !(SERVICES as readonly string[]).includes(only)) {
        throw new UsageError(`--only must be one of ${SERVICES.join(', ')}; got "${only}"`);
      }
      return { kind: 'start', only: only as ServiceName | undefined };
    }
    case 'generate': {
      let rate: number | undefined;
      if (values.rate !== undefined) {
        rate = Number(values.rate);
        if (!Number.isFinite(rate) || rate <= 0) throw new UsageError(`--rate must be a positive number; got "${values.rate}"`);
      }
      if (!values.list && values.scenario === undefined) throw new UsageError('generate needs --scenario <name> or --list');
      return { kind: 'generate', scenario: values.scenario, rate, list: values.list ?? false };
    }
    case 'rules': {
      if (rest[0] !== 'validate' || rest[1] === undefined) throw new UsageError('usage: auditflow rules validate <file>');
      return { kind: 'rules-validate', file: rest[1] };
    }
    case 'migrate':
      return { kind: 'migrate' };
    default:
      throw new UsageError(`unknown command "${command}"; see auditflow --help`);
  }
}
