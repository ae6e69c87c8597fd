// Writes services.json (the manifest for shell scripts, CI and the bake file) from
// src/common/src/services.ts. `node --conditions=source scripts/generate-services.ts`;
// src/common/test/services-manifest.test.ts regenerates and compares.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SERVICES } from '@auditflow/common/platform';

export const SERVICES_JSON = fileURLToPath(new URL('../services.json', import.meta.url));

export function renderServicesJson(): string {
  const manifest = {
    $comment: 'Generated from src/common/src/services.ts by scripts/generate-services.ts; do not edit.',
    services: SERVICES.map((service) => ({ name: service.name, dir: `src/${service.name}`, does: service.does, ports: service.ports })),
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const next = renderServicesJson();
  let current = '';
  try {
    current = readFileSync(SERVICES_JSON, 'utf8');
  } catch {
    // first run
  }
  if (next !== current) writeFileSync(SERVICES_JSON, next);
  console.log(next === current ? 'services.json is up to date' : 'services.json regenerated');
}
