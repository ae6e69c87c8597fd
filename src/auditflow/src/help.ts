import { SERVICE_NAMES } from '@auditflow/common/platform';
import { portSummary } from './all-in-one-env.ts';

export const HELP = `auditflow: the AuditFlow platform in one command

Usage:
  auditflow start [--only <service>]      run the platform (all five services in one process)
                                          or one service alone, exactly as its container does
  auditflow generate --scenario <name> [--rate <events/s>]
                                          publish one attack scenario to the broker
  auditflow generate --list               list the scenarios and the rule each should trigger
  auditflow rules validate <file>         check a rules file; errors are printed as file:line:col
  auditflow migrate                       apply pending notification-service database migrations
  auditflow help | --help                 this text

Services for --only: ${SERVICE_NAMES.join(', ')}

All-in-one mode uses the real servers that are configured and embedded stand-ins for the rest:
  broker   RABBITMQ_URL or RABBITMQ_HOST   else an in-process broker
  windows  REDIS_URL or REDIS_HOST         else in-memory window state
  alerts   DATABASE_URL or PG_HOST         else PGlite (PostgreSQL in WebAssembly) in DATA_DIR (./data)
  exceptions  EXCEPTIONS_FILE              else DATA_DIR/exceptions.yaml, written by the dashboard, read by the analysis

All-in-one ports (0 picks a free port):
${portSummary()}

Every other setting is described in docs/configuration.md.
`;
