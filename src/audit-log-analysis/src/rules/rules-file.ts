import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseRules } from './rule-parser.ts';
import type { RuleSet } from './rule-set.ts';
import { RulesError } from './rules-error.ts';

/**
 * The packaged rules. This module sits in src/rules/ (or dist/rules/ after a
 * build), and the package's rules/ directory sits beside src/ and dist/, so the
 * same relative path works from both.
 */
export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../../rules/default.yaml', import.meta.url));

/** Reads, parses and validates a rules file; throws RulesError (AF_RULES_INVALID). */
export async function loadRulesFile(path: string): Promise<RuleSet> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new RulesError(path, [{ line: 1, column: 1, path: '', message: `cannot read the file: ${(error as Error).message}` }]);
  }
  return parseRules(text, path);
}

/** The synchronous form, for start-up code that validates configuration before anything runs. */
export function loadRulesFileSync(path: string): RuleSet {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RulesError(path, [{ line: 1, column: 1, path: '', message: `cannot read the file: ${(error as Error).message}` }]);
  }
  return parseRules(text, path);
}
