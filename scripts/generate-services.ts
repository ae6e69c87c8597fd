// Writes services.json (the manifest for shell scripts, CI and the bake file) from
// src/common/src/services.ts. src/common/test/services-manifest.test.ts regenerates and compares.
//
//   node --conditions=source scripts/generate-services.ts          rewrite services.json
//   node --conditions=source scripts/generate-services.ts --check  exit 1 when it is stale
import { fileURLToPath } from 'node:url';
import { SERVICES } from '@auditflow/common/platform';
import { writeOrCheck } from './lib/generated-file.mjs';

export const SERVICES_JSON = fileURLToPath(new URL('../services.json', import.meta.url));

export function renderServicesJson(): string {
  const manifest = {
    $comment: 'Generated from src/common/src/services.ts by scripts/generate-services.ts; do not edit.',
    services: SERVICES.map((service) => ({ name: service.name, dir: `src/${service.name}`, does: service.does, ports: service.ports })),
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeOrCheck([{ path: SERVICES_JSON, content: renderServicesJson() }], { command: 'node --conditions=source scripts/generate-services.ts' });
}
