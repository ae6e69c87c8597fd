// Just enough PromQL lexing to list the metric and label names an expression
// reads. It is not a parser: it relies on the shapes the monitoring files use
// (selectors, functions, aggregations with by/without, binary operators).

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
]);

const STRING = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g;
const GROUPING = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
const DURATION = /\b\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y)\b/g;
const NUMBER = /\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi;
const IDENTIFIER = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;
// Grafana template variables: $var, ${var}, $__rate_interval.
const GRAFANA_VARIABLE = /\$\{?\w+\}?/g;

/** Metric names an expression selects, in order of first appearance. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(STRING, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(GROUPING, ' ')
    .replace(GRAFANA_VARIABLE, ' ')
    .replace(DURATION, ' ')
    .replace(NUMBER, ' ');
  const names: string[] = [];
  for (const match of stripped.matchAll(IDENTIFIER)) {
    const name = match[0];
    const rest = stripped.slice((match.index ?? 0) + name.length);
    if (/^\s*\(/.test(rest)) continue; // a function or aggregation operator
    if (KEYWORDS.has(name.toLowerCase())) continue;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** Label names an expression filters or groups on. */
export function labelNames(expr: string): string[] {
  const names = new Set<string>();
  const withoutStrings = expr.replace(STRING, '""');
  for (const selector of withoutStrings.matchAll(/\{([^}]*)\}/g)) {
    for (const matcher of (selector[1] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) {
      names.add(matcher[1] ?? '');
    }
  }
  for (const grouping of withoutStrings.matchAll(GROUPING)) {
    for (const label of (grouping[1] ?? '').split(',')) {
      const trimmed = label.trim();
      if (trimmed !== '') names.add(trimmed);
    }
  }
  return [...names];
}

/** Labels an expression creates with label_replace (its destination argument). */
export function labelReplaceTargets(expr: string): string[] {
  const targets = new Set<string>();
  for (const call of expr.matchAll(/,\s*"([a-zA-Z_][a-zA-Z0-9_]*)"\s*,\s*"[^"]*"\s*,\s*"[^"]*"\s*,\s*"[^"]*"\s*\)/g)) {
    if (call[1] !== undefined) targets.add(call[1]);
  }
  return [...targets];
}
