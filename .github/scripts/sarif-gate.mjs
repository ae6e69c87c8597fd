// Fails the job when a SARIF report holds a finding rated high or critical: CodeQL's
// security-severity >= 7.0, or a rule/result level of "error" when no score exists.
// Code scanning uploads never fail a build by themselves, which made the original's gates
// advisory only (D19).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const target = process.argv[2];
if (!target) {
  console.error('usage: sarif-gate.mjs <file.sarif|directory>');
  process.exit(2);
}
const files = statSync(target).isDirectory()
  ? readdirSync(target).filter((f) => f.endsWith('.sarif')).map((f) => path.join(target, f))
  : [target];
if (files.length === 0) {
  console.error(`no SARIF file in ${target}`);
  process.exit(2);
}

const blocking = [];
for (const file of files) {
  const sarif = JSON.parse(readFileSync(file, 'utf8'));
  for (const run of sarif.runs ?? []) {
    const rules = new Map();
    for (const rule of run.tool?.driver?.rules ?? []) rules.set(rule.id, rule);
    for (const ext of run.tool?.extensions ?? []) for (const rule of ext.rules ?? []) rules.set(rule.id, rule);
    for (const result of run.results ?? []) {
      if (result.suppressions?.length) continue;
      const rule = rules.get(result.ruleId) ?? {};
      const score = Number.parseFloat(rule.properties?.['security-severity'] ?? '');
      const level = result.level ?? rule.defaultConfiguration?.level ?? 'warning';
      const high = Number.isFinite(score) ? score >= 7 : level === 'error';
      if (!high) continue;
      const loc = result.locations?.[0]?.physicalLocation;
      blocking.push(`${result.ruleId} ${loc?.artifactLocation?.uri ?? '?'}:${loc?.region?.startLine ?? '?'} ${result.message?.text ?? ''}`);
    }
  }
}
if (blocking.length > 0) {
  console.error(`${blocking.length} high or critical finding(s):\n${blocking.join('\n')}`);
  process.exit(1);
}
console.log(`no high or critical findings in ${files.length} SARIF file(s)`);
