import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRuleFiles } from '../../src/audit-log-analysis/src/rules/rule-parser.ts';
import { DEFAULT_RULES_FILE } from '../../src/audit-log-analysis/src/rules/rules-file.ts';
import { loadCorpus } from './corpus.ts';
import { DOC, renderDoc, SIGMA_EXAMPLES } from './rules-doc.ts';

test('docs/analysis-rules.md lists every rule with the corpus lines that trigger it, and the Sigma field mapping, as generated', () => {
  const current = readFileSync(DOC, 'utf8');
  assert.equal(current, renderDoc(current), 'run: node --conditions=source tests/corpus/rules-doc.ts');
});

test('every alerting rule that real logs can trigger has an attack case and a benign look-alike of its source in the corpus', () => {
  const files = [DEFAULT_RULES_FILE, ...readdirSync(SIGMA_EXAMPLES).map((name) => join(SIGMA_EXAMPLES, name))];
  const rules = parseRuleFiles(files.map((file) => ({ text: readFileSync(file, 'utf8'), fileName: file })), 'rules');
  const cases = loadCorpus();
  // The original's rules over the generator's synthetic event types (user_login, file_modified, sudo_command,
  // user_account_management): no Linux program or API server writes those; the corpus shows they stay silent.
  const generatorOnly = new Set(['ANLY-SEC-001', 'ANLY-SEC-002', 'ANLY-SEC-003', 'ANLY-SEC-004', 'ANLY-SEC-005', 'ANLY-SEC-007']);
  const missing = rules.rules
    // A first_seen rule raises nothing in its learning period: its labelled stream is src/audit-log-analysis/test/first-seen.test.ts.
    .filter((rule) => rule.alerts && !generatorOnly.has(rule.id) && !(rule.kind === 'correlation' && rule.firstSeen))
    .filter((rule) => !cases.some((c) => c.label === 'attack' && c.expect.includes(rule.id)))
    .map((rule) => rule.id);
  assert.deepEqual(missing, []);
  for (const kind of ['linux', 'k8s']) assert.ok(cases.filter((c) => c.kind === kind && c.label === 'benign').length >= 8, kind);
});
