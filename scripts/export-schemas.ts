// Writes the JSON Schema files from their TypeScript source of truth.
// Run: node --conditions=source scripts/export-schemas.ts
import { writeFileSync } from 'node:fs';
import { alertSchema, auditEventSchema } from '@auditflow/common';

const targets = [
  ['src/common/schemas/audit-event.schema.json', auditEventSchema],
  ['src/common/schemas/alert.schema.json', alertSchema],
] as const;
for (const [path, schema] of targets) writeFileSync(path, `${JSON.stringify(schema, null, 2)}\n`);
console.log(`wrote ${targets.length} schema files`);
