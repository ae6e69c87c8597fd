import { type Document, isMap, isSeq, stringify } from 'yaml';
import {
  EXCEPTION_ID_SYNTAX,
  type ExceptionEntry,
  ExceptionsFileSchema,
  exceptionFieldsProblem,
  MAX_EXCEPTION_FIELDS,
  MAX_EXCEPTION_REASON,
  MAX_EXCEPTION_VALUE,
  MAX_RULE_ID,
} from './contracts/exceptions.ts';
import { isLabelName, LABEL_NAME_RULE } from './contracts/labels.ts';
import { MAX_ACTOR } from './contracts/notification-api.ts';
import { contractValidator } from './contracts/validate.ts';
import { AfExceptionsInvalidError } from './errors.ts';
import { locatedProblems, parseYamlFile, problemSummary, type YamlLocator, type YamlProblem } from './yaml-locator.ts';
import { readYamlSources, type YamlSource } from './yaml-sources.ts';

/**
 * The exceptions file (docs/analysis-rules.md, "Exceptions"): `exceptions:` and a list of
 * entries. The analysis loads it like the rules (every problem at `file:line:col`), the
 * notification API writes it; both sides go through this module, so what one writes the other
 * reads.
 */
export type ExceptionsProblem = YamlProblem & { file?: string };

/** An exceptions file (or directory) that cannot be loaded; every problem is reported at once. */
export class ExceptionsFileError extends AfExceptionsInvalidError {
  readonly problems: ExceptionsProblem[];
  readonly fileName: string;

  constructor(fileName: string, problems: ExceptionsProblem[]) {
    super(fileName, problemSummary(fileName, problems), { details: problems });
    this.problems = problems;
    this.fileName = fileName;
  }

  /** Each problem as `file:line:col: message`, the form a ConfigError names them in. */
  get located(): string[] {
    return locatedProblems(this.fileName, this.problems);
  }
}

export type ExceptionsFileText = YamlSource;

const KEYS = ['id', 'rule_id', 'fields', 'author', 'reason', 'created_at', 'expires_at'];
const ID = new RegExp(EXCEPTION_ID_SYNTAX);
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const isExceptionsFile = contractValidator(ExceptionsFileSchema);

/**
 * Parses exceptions files as one set: ids are unique across them and every rule id must be one
 * `isKnownRule` accepts. An empty file holds no exceptions. Throws ExceptionsFileError.
 */
export function parseExceptionFiles(files: readonly ExceptionsFileText[], isKnownRule: (ruleId: string) => boolean, setName: string): ExceptionEntry[] {
  const entries: ExceptionEntry[] = [];
  const problems: ExceptionsProblem[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const { located, problems: found } = parseFile(file.text);
    for (const { entry, index, locator } of located) {
      const where = `${file.fileName}, entry ${index + 1}`;
      const first = seen.get(entry.id);
      if (first !== undefined) locator.report(['exceptions', index, 'id'], `duplicate id '${entry.id}' (first in ${first})`);
      else seen.set(entry.id, where);
      if (!isKnownRule(entry.rule_id)) locator.report(['exceptions', index, 'rule_id'], `unknown rule id '${entry.rule_id}': no rule of the rules file has it`);
      entries.push(entry);
    }
    for (const problem of found) problems.push({ ...problem, file: file.fileName });
  }
  if (problems.length > 0) throw new ExceptionsFileError(files.length === 1 ? files[0]!.fileName : setName, problems);
  return entries;
}

interface Located {
  entry: ExceptionEntry;
  index: number;
  locator: YamlLocator;
}

/** The valid entries of one file, and every problem found in it (the later ones reported there too). */
function parseFile(text: string): { located: Located[]; problems: YamlProblem[] } {
  const { document, problems, at } = parseYamlFile(text, 'exceptions');
  return { located: problems.length > 0 ? [] : entriesOf(document, at), problems };
}

function entriesOf(document: Document, at: YamlLocator): Located[] {
  const problems = at.problems;
  const value: unknown = document.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) return [];
  if (!isMap(document.contents) || typeof value !== 'object' || Array.isArray(value)) {
    at.report([], "the file must be a mapping with one key, 'exceptions' (a list)");
    return [];
  }
  for (const key of Object.keys(value)) if (key !== 'exceptions') at.report([key], `unknown key '${key}' (only 'exceptions')`, { atKey: true });
  const list = (value as Record<string, unknown>)['exceptions'];
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list) || !isSeq(document.get('exceptions', true))) {
    at.report(['exceptions'], 'exceptions must be a list of entries (- id: …)');
    return [];
  }
  const located: Located[] = [];
  list.forEach((raw: unknown, index) => {
    const before = problems.length;
    checkEntry(raw, ['exceptions', index], at);
    if (problems.length === before) located.push({ entry: raw as ExceptionEntry, index, locator: at });
  });
  // The checks above word each problem for a person; the schema is the contract that decides.
  if (problems.length === 0 && !isExceptionsFile(value)) {
    for (const error of isExceptionsFile.errors) at.report(pathOf(error.path), error.message);
  }
  return located;
}

function checkEntry(raw: unknown, path: (string | number)[], at: YamlLocator): void {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    at.report(path, 'an exception must be a mapping (id, rule_id, fields, author, reason, expires_at)');
    return;
  }
  const entry = raw as Record<string, unknown>;
  for (const key of Object.keys(entry)) {
    if (!KEYS.includes(key)) at.report([...path, key], `unknown key '${key}' (known: ${KEYS.join(', ')})`, { atKey: true });
  }
  const text = (key: string, max: number, rule: string) => {
    const value = entry[key];
    if (value === undefined || value === null) at.report(path, `missing '${key}'`);
    else if (typeof value !== 'string' || value.trim() === '' || value.length > max) at.report([...path, key], `${key} must be ${rule}`);
  };
  text('id', 100, 'letters, digits, _ . - (at most 100, starting with a letter or digit), unique in the file');
  if (typeof entry['id'] === 'string' && entry['id'] !== '' && !ID.test(entry['id'])) at.report([...path, 'id'], `id '${entry['id']}' may only use letters, digits and _ . - and must start with a letter or digit`);
  text('rule_id', MAX_RULE_ID, `the id of a rule (at most ${MAX_RULE_ID} characters)`);
  text('author', MAX_ACTOR, `who made the exception (at most ${MAX_ACTOR} characters)`);
  text('reason', MAX_EXCEPTION_REASON, `why the alerts are expected (at most ${MAX_EXCEPTION_REASON} characters)`);
  for (const key of ['created_at', 'expires_at']) {
    const value = entry[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
      at.report([...path, key], `${key} must be an ISO-8601 date-time with a zone, e.g. 2026-12-31T00:00:00Z (quote it)`);
    }
  }
  const fields = entry['fields'];
  if (fields === undefined || fields === null) {
    at.report(path, "missing 'fields' (the alert labels and the exact value each must have)");
    return;
  }
  if (typeof fields !== 'object' || Array.isArray(fields)) {
    at.report([...path, 'fields'], 'fields must be a mapping of alert label → exact value');
    return;
  }
  const names = Object.keys(fields);
  if (names.length === 0 || names.length > MAX_EXCEPTION_FIELDS) at.report([...path, 'fields'], `fields must name 1 to ${MAX_EXCEPTION_FIELDS} labels`);
  for (const name of names) {
    const value = (fields as Record<string, unknown>)[name];
    if (!isLabelName(name)) at.report([...path, 'fields', name], `'${name}' is not ${LABEL_NAME_RULE}`, { atKey: true });
    else if (typeof value !== 'string' || value === '' || value.length > MAX_EXCEPTION_VALUE) {
      at.report([...path, 'fields', name], `the value of ${name} must be text of 1 to ${MAX_EXCEPTION_VALUE} characters (quote numbers and booleans)`);
    }
  }
  const reserved = exceptionFieldsProblem(fields as Record<string, string>);
  if (reserved !== undefined) at.report([...path, 'fields'], reserved);
}

/** `/exceptions/0/fields/host` → ['exceptions', 0, 'fields', 'host']. */
function pathOf(pointer: string): (string | number)[] {
  return pointer
    .split('/')
    .slice(1)
    .filter((part) => part !== '')
    .map((part) => part.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

export interface LoadedExceptions {
  entries: ExceptionEntry[];
  /** The file, or every `*.yml`/`*.yaml` of the directory, in name order. */
  files: string[];
  /** The texts read, joined: equal texts mean nothing changed. */
  content: string;
}

/**
 * Reads an exceptions file, or every `*.yml`/`*.yaml` file of a directory (hidden files and the
 * ConfigMap's `..data` links skipped, like RULES_FILE), and validates it. Throws
 * ExceptionsFileError, also when the path cannot be read.
 */
export function loadExceptionsFileSync(path: string, isKnownRule: (ruleId: string) => boolean): LoadedExceptions {
  const files = readExceptionTexts(path);
  const entries = parseExceptionFiles(files, isKnownRule, path);
  return { entries, files: files.map((f) => f.fileName), content: contentOf(files) };
}

/** The texts read, joined with their names: equal keys mean nothing changed since the last read. */
export function contentOf(files: readonly ExceptionsFileText[]): string {
  return files.map((f) => `${f.fileName}\0${f.text}`).join('\0');
}

export function readExceptionTexts(path: string): ExceptionsFileText[] {
  try {
    return readYamlSources(path);
  } catch (error) {
    throw new ExceptionsFileError(path, [{ line: 1, column: 1, path: '', message: `cannot read the exceptions: ${(error as Error).message}` }]);
  }
}

const HEADER = `# AuditFlow exceptions: alerts of rule_id whose labels have exactly these values are never raised.
# Loaded by audit-log-analysis from EXCEPTIONS_FILE and validated like the rules (docs/analysis-rules.md,
# "Exceptions"). Written by the notification API (GET /exceptions.yaml); review and commit it to Git.
`;

/** Entries in the file's order: by rule, then creation time, then id, so a re-export diffs cleanly. */
export function sortExceptions<T extends ExceptionEntry>(entries: readonly T[]): T[] {
  const key = (e: ExceptionEntry) => [e.rule_id, e.created_at ?? '', e.id];
  return [...entries].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return 0;
  });
}

/** The canonical form of an entry: keys in a fixed order, fields sorted by name, no empty expiry. */
function canonical(entry: ExceptionEntry): ExceptionEntry {
  const fields = Object.fromEntries(Object.entries(entry.fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    id: entry.id,
    rule_id: entry.rule_id,
    fields,
    author: entry.author,
    reason: entry.reason,
    ...(entry.created_at ? { created_at: entry.created_at } : {}),
    ...(entry.expires_at ? { expires_at: entry.expires_at } : {}),
  };
}

const STRINGIFY = { lineWidth: 0, defaultStringType: 'PLAIN', defaultKeyType: 'PLAIN' } as const;

/** The whole exceptions file, deterministic for the same entries. */
export function renderExceptionsFile(entries: readonly ExceptionEntry[]): string {
  const body = entries.length === 0 ? 'exceptions: []\n' : stringify({ exceptions: sortExceptions(entries).map(canonical) }, STRINGIFY);
  return `${HEADER}${body}`;
}

/** One entry as a list item, to paste under `exceptions:` of a committed file. */
export function renderExceptionFragment(entry: ExceptionEntry): string {
  const item = stringify([canonical(entry)], STRINGIFY);
  return item
    .split('\n')
    .map((line) => (line === '' ? line : `  ${line}`))
    .join('\n');
}
