// Regenerates the tables of docs/configuration.md that are declared in code (`<!-- env:<id> -->`
// blocks). src/auditflow/test/config-docs.test.ts regenerates and compares.
//
//   node --conditions=source scripts/generate-config-docs.ts          rewrite docs/configuration.md
//   node --conditions=source scripts/generate-config-docs.ts --check  exit 1 when it is stale
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ALL_IN_ONE_ENV } from '@auditflow/auditflow/all-in-one-env';
import { GENERATOR_ENV } from '@auditflow/audit-event-generator/config';
import { ENRICHMENT_ENV } from '@auditflow/audit-log-analysis/enrichment/enrichment-config';
import { REDIS_ENV } from '@auditflow/audit-log-analysis/redis-config';
import { BASE_ENV, type EnvSpec, envTable, RABBIT_ENV, replaceEnvBlock } from '@auditflow/common/platform';
import { DASHBOARD_ENV } from '@auditflow/event-audit-dashboard/config';
import { NOTIFICATION_ENV } from '@auditflow/notification-service/config';
import { POSTGRES_ENV } from '@auditflow/notification-service/postgres-config';
import { writeOrCheck } from './lib/generated-file.mjs';

export const CONFIGURATION_DOC = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));

/** Every generated block of docs/configuration.md and the declaration it comes from. */
export const DECLARED_BLOCKS: Record<string, EnvSpec> = {
  'all-in-one': ALL_IN_ONE_ENV,
  shared: BASE_ENV,
  rabbitmq: RABBIT_ENV,
  redis: REDIS_ENV,
  enrichment: ENRICHMENT_ENV,
  postgresql: POSTGRES_ENV,
  'audit-event-generator': GENERATOR_ENV,
  'notification-service': NOTIFICATION_ENV,
  'event-audit-dashboard': DASHBOARD_ENV,
};

export function renderConfigurationDoc(current: string): string {
  let text = current;
  for (const [id, spec] of Object.entries(DECLARED_BLOCKS)) text = replaceEnvBlock(text, id, envTable(spec));
  return text;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeOrCheck([{ path: CONFIGURATION_DOC, content: renderConfigurationDoc(readFileSync(CONFIGURATION_DOC, 'utf8')) }], {
    command: 'node --conditions=source scripts/generate-config-docs.ts',
  });
}
