import { readYamlSources, type YamlSource } from '@auditflow/common/platform';
import { fileURLToPath } from 'node:url';
import { parseRuleFiles } from './rule-parser.ts';
import type { RuleSet } from './rule-set.ts';
import { RulesError } from './rules-error.ts';

/**
 * The packaged rules. This module sits in src/rules/ (or dist/rules/ after a
 * build), and the package's rules/ directory sits beside src/ and dist/, so the
 * same relative path works from both.
 */
export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../../rules/default.yaml', import.meta.url));

/**
 * Reads, parses and validates a rules file, or every `*.yml`/`*.yaml` file of
 * a rules directory (in name order, hidden files and the ConfigMap's `..data`
 * links skipped) as one rule set; throws RulesError (AF_RULES_INVALID).
 */
export async function loadRulesFile(path: string): Promise<RuleSet> {
  return loadRulesFileSync(path);
}

/** The synchronous form, for start-up code that validates configuration before anything runs. */
export function loadRulesFileSync(path: string): RuleSet {
  let files: YamlSource[];
  try {
    files = readYamlSources(path);
    if (files.length === 0) throw new Error('the directory holds no .yml or .yaml file');
  } catch (error) {
    throw new RulesError(path, [{ line: 1, column: 1, path: '', message: `cannot read the rules: ${(error as Error).message}` }]);
  }
  return parseRuleFiles(files, path);
}
