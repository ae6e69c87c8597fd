import { createHash } from 'node:crypto';

const names = new Map<string, string>();

/**
 * A stable prepared-statement name for a statement text (PostgreSQL caps names at 63 bytes).
 * Texts come from a small fixed set (one per filter combination), so the names are memoised.
 */
export function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `af_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    if (names.size < 10_000) names.set(text, name);
  }
  return name;
}
