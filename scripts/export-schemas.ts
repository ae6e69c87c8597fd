// Writes the JSON Schema files from their TypeScript source of truth.
//
//   node --conditions=source scripts/export-schemas.ts          rewrite the schema files
//   node --conditions=source scripts/export-schemas.ts --check  exit 1 when one is stale
import { fileURLToPath } from 'node:url';
import { alertSchema, auditEventSchema } from '@auditflow/common';
import { writeOrCheck } from './lib/generated-file.mjs';

const targets = [
  ['src/common/schemas/audit-event.schema.json', auditEventSchema],
  ['src/common/schemas/alert.schema.json', alertSchema],
] as const;
writeOrCheck(
  targets.map(([path, schema]) => ({ path: fileURLToPath(new URL(`../${path}`, import.meta.url)), content: `${JSON.stringify(schema, null, 2)}\n` })),
  { command: 'node --conditions=source scripts/export-schemas.ts' },
);
