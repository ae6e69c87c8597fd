#!/usr/bin/env node
// Writes the third-party image references of k8s/images.yaml into the chart values files
// that use them (registry, repository, tag, digest), keeping every comment and @param line.
//
//   node k8s/charts/tools/sync-images.mjs          rewrite the values files
//   node k8s/charts/tools/sync-images.mjs --check  exit 1 when one differs from k8s/images.yaml
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseDocument } from 'yaml';
import { writeOrCheck } from '../../../scripts/lib/generated-file.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const umbrella = join(repo, 'k8s', 'charts', 'auditflow-platform');
const FIELDS = ['registry', 'repository', 'tag', 'digest'];

export function readImages() {
  return parse(readFileSync(join(repo, 'k8s', 'images.yaml'), 'utf8'));
}

export function valuesFileOf(chart) {
  return chart === 'auditflow-platform' ? join(umbrella, 'values.yaml') : join(umbrella, 'charts', chart, 'values.yaml');
}

/** { values file: new content } for every file that differs from k8s/images.yaml. */
export function pendingChanges() {
  const docs = new Map();
  for (const [name, image] of Object.entries(readImages())) {
    for (const use of image.usedBy) {
      const [chart, path] = use.split(':');
      const file = valuesFileOf(chart);
      if (!docs.has(file)) docs.set(file, { original: readFileSync(file, 'utf8') });
      const entry = docs.get(file);
      entry.doc ??= parseDocument(entry.original);
      const keys = path.split('.');
      if (!entry.doc.hasIn(keys)) throw new Error(`${name}: ${use} does not exist in ${file}`);
      for (const field of FIELDS) entry.doc.setIn([...keys, field], String(image[field]));
    }
  }
  const changes = {};
  for (const [file, { original, doc }] of docs) {
    const next = doc.toString({ lineWidth: 0 });
    if (next !== original) changes[file] = next;
  }
  return changes;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeOrCheck(
    Object.entries(pendingChanges()).map(([path, content]) => ({ path, content })),
    { command: 'node k8s/charts/tools/sync-images.mjs' },
  );
}
