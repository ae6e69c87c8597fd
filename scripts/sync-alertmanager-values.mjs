#!/usr/bin/env node
// Writes monitoring/kube-prometheus-stack/alertmanager-values.yaml: AuditFlow's Alertmanager
// configuration as kube-prometheus-stack values. The stack renders `alertmanager.config` as a
// map, so the file is nested under that key instead of passed with --set-file (which would make
// it a string the stack ignores). monitoring/alertmanager/alertmanager.yaml stays the source.
//
//   node scripts/sync-alertmanager-values.mjs          rewrite the values file
//   node scripts/sync-alertmanager-values.mjs --check  exit 1 when it is stale
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { writeOrCheck } from './lib/generated-file.mjs';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(repoRoot, 'monitoring/alertmanager/alertmanager.yaml');
const target = join(repoRoot, 'monitoring/kube-prometheus-stack/alertmanager-values.yaml');

const expected = [
  '# Generated from monitoring/alertmanager/alertmanager.yaml by scripts/sync-alertmanager-values.mjs.',
  '#   helm upgrade --install kube-prometheus-stack prometheus-community/kube-prometheus-stack -n monitoring \\',
  '#     -f monitoring/kube-prometheus-stack/values-pi.yaml -f monitoring/kube-prometheus-stack/alertmanager-values.yaml',
  stringify({ alertmanager: { config: parse(readFileSync(source, 'utf8')) } }, { lineWidth: 0 }),
].join('\n');

writeOrCheck([{ path: target, content: expected }], { command: 'node scripts/sync-alertmanager-values.mjs' });
