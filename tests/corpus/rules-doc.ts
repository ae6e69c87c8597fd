import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRuleFiles } from '../../src/audit-log-analysis/src/rules/rule-parser.ts';
import { DEFAULT_RULES_FILE } from '../../src/audit-log-analysis/src/rules/rules-file.ts';
import { AUTH_PROGRAMS, K8S_AUDIT_FIELDS, LINUX_FIELDS, REFUSED_MODIFIERS, SUDO_FIELDS } from '../../src/audit-log-analysis/src/rules/sigma.ts';
import { type CorpusCase, loadCorpus } from './corpus.ts';

/**
 * The generated parts of docs/analysis-rules.md: every rule (the defaults and
 * the example Sigma rules) with the corpus lines that trigger it, and the
 * Sigma field mapping. `node --conditions=source tests/corpus/rules-doc.ts`
 * rewrites them; tests/corpus/rules-doc.test.ts fails when they are stale.
 */
export const DOC = join(import.meta.dirname, '..', '..', 'docs', 'analysis-rules.md');
export const SIGMA_EXAMPLES = join(import.meta.dirname, '..', '..', 'src', 'audit-log-analysis', 'rules', 'sigma-examples');

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

function trigger(c: CorpusCase): string {
  if (c.kind === 'linux') return c.lines.slice(0, 3).map((line) => `\`${cell(line)}\``).join('<br>') + (c.lines.length > 3 ? '<br>...' : '');
  const e = c.events[0]!;
  const user = (e['user'] as { username?: string } | undefined)?.username ?? '';
  const stage = typeof e['stage'] === 'string' ? ` at ${e['stage']}` : '';
  const version = typeof e['apiVersion'] === 'string' ? ` (${e['apiVersion']})` : '';
  const repeat = c.repeat ? ` x${c.repeat}` : '';
  return `\`${cell(`${e['verb']} ${e['requestURI']}`)}\` by \`${cell(user)}\`${stage}${version}${repeat}${c.events.length > 1 ? ` (+${c.events.length - 1} more)` : ''}`;
}

export function renderRulesTable(): string {
  const files = [
    { text: readFileSync(DEFAULT_RULES_FILE, 'utf8'), fileName: 'default.yaml' },
    ...readdirSync(SIGMA_EXAMPLES)
      .sort()
      .map((name) => ({ text: readFileSync(join(SIGMA_EXAMPLES, name), 'utf8'), fileName: `sigma-examples/${name}` })),
  ];
  const rules = parseRuleFiles(files, 'rules');
  const cases = loadCorpus();
  const rows = rules.rules.map((rule) => {
    const attacks = cases.filter((c) => c.label === 'attack' && c.expect.includes(rule.id));
    const benign = cases.filter((c) => c.label === 'benign' && c.kind === attacks[0]?.kind).length;
    let lines: string;
    if (!rule.alerts) lines = 'referenced by a correlation; alerts only through it';
    else if (rule.kind === 'correlation' && rule.firstSeen) lines = 'first_seen: a combination new after the learning period (src/audit-log-analysis/test/first-seen.test.ts)';
    else if (attacks.length === 0) lines = 'the generator\'s synthetic events only (no real log line has this event type)';
    else lines = `${trigger(attacks[0]!)}${attacks.length > 1 ? ` (and ${attacks.length - 1} more corpus case${attacks.length > 2 ? 's' : ''})` : ''}`;
    const level = rule.alerts ? rule.alert.severity : '-';
    const corpus = attacks.length > 0 ? `${attacks.map((c) => c.id).join(', ')}; ${benign} benign look-alikes of the same source` : '';
    return `| ${rule.id} | ${cell(rule.title)} | ${level} | ${lines} | ${corpus} |`;
  });
  return ['| id | rule | severity | triggered by (from tests/corpus) | corpus cases |', '|---|---|---|---|---|', ...rows].join('\n');
}

export function renderSigmaMapping(): string {
  const linux = Object.entries(LINUX_FIELDS).map(([sigma, field]) => `| linux (all services) | \`${sigma}\` | \`${field}\` |`);
  const sudo = Object.entries(SUDO_FIELDS).map(([sigma, field]) => `| linux/sudo | \`${sigma}\` | \`${field}\` |`);
  const k8s = K8S_AUDIT_FIELDS.map((field) => `| kubernetes/audit | \`${field}\`, \`${field}.*\` | \`source.original.${field}\` (the audit event as received) |`);
  const keywords = ['| linux (all services) | keywords (a selection that is a list of strings) | `details.message`, searched case-insensitively as `*keyword*` |'];
  const refused = Object.entries(REFUSED_MODIFIERS).map(([name, why]) => `| \`${name}\` | ${cell(why)} |`);
  return [
    '| logsource | Sigma field | AuditFlow field |',
    '|---|---|---|',
    ...keywords,
    ...linux,
    ...sudo,
    ...k8s,
    '',
    `\`service: auth\` selects the programs ${AUTH_PROGRAMS.map((p) => `\`${p}\``).join(', ')}.`,
    '',
    '| refused modifier | why |',
    '|---|---|',
    ...refused,
  ].join('\n');
}

const BLOCKS = { 'rules-table': renderRulesTable, 'sigma-mapping': renderSigmaMapping } as const;

/** The document with its generated blocks re-rendered. */
export function renderDoc(current: string): string {
  let text = current;
  for (const [name, render] of Object.entries(BLOCKS)) {
    const start = `<!-- generated:${name} (node --conditions=source tests/corpus/rules-doc.ts) -->`;
    const end = `<!-- /generated:${name} -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from < 0 || to < from) throw new Error(`docs/analysis-rules.md lacks the ${name} markers`);
    text = `${text.slice(0, from + start.length)}\n${render()}\n${text.slice(to)}`;
  }
  return text;
}

if (import.meta.main) {
  writeFileSync(DOC, renderDoc(readFileSync(DOC, 'utf8')));
  console.log('docs/analysis-rules.md regenerated');
}
