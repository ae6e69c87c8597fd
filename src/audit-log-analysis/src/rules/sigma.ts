import type { EventContext } from './event-context.ts';
import { cidrTest, type EventPredicate, MatcherError } from './field-matcher.ts';

/**
 * Sigma compatibility: which Sigma logsources AuditFlow receives, which event
 * each one selects, and how Sigma's field names map to AuditFlow's normalised
 * events. docs/analysis-rules.md ("Sigma rules") documents this table; a test
 * keeps the two in step.
 */

/** The programs whose lines go to syslog's auth and authpriv facilities on Debian. */
export const AUTH_PROGRAMS = [
  'sshd', 'sshd-session', 'sshd-auth', 'sudo', 'su', 'login', 'passwd', 'chpasswd', 'chage', 'chsh', 'chfn', 'newgrp',
  'useradd', 'usermod', 'userdel', 'groupadd', 'groupmod', 'groupdel', 'gpasswd', 'adduser', 'deluser', 'addgroup', 'delgroup',
  'systemd-logind', 'polkitd', 'pkexec',
] as const;
const SSHD_PROGRAMS = ['sshd', 'sshd-session', 'sshd-auth'];

/** Sigma fields of the Linux logsources, by the AuditFlow field each one reads. */
export const LINUX_FIELDS: Readonly<Record<string, string>> = {
  message: 'details.message',
  hostname: 'server_hostname',
  program: 'source.program',
  user: 'user_id',
  src_ip: 'details.ip_address',
  src_port: 'details.port',
};
/** sudo's own `KEY=value` fields (Sigma's sudo rules name them as sudo writes them). */
export const SUDO_FIELDS: Readonly<Record<string, string>> = {
  USER: 'details.target_user',
  COMMAND: 'details.command',
  TTY: 'details.tty',
  PWD: 'details.cwd',
};
/** Top-level fields of an `audit.k8s.io` Event; a Sigma field `a.b` reads `source.original.a.b`, the event as the API server wrote it. */
export const K8S_AUDIT_FIELDS = [
  'kind', 'apiVersion', 'level', 'auditID', 'stage', 'requestURI', 'verb', 'user', 'impersonatedUser', 'sourceIPs', 'userAgent',
  'objectRef', 'responseStatus', 'requestObject', 'responseObject', 'requestReceivedTimestamp', 'stageTimestamp', 'annotations',
] as const;

/** Modifiers of the Sigma specification AuditFlow refuses, with why (never silently ignored). */
export const REFUSED_MODIFIERS: Readonly<Record<string, string>> = {
  windash: 'it expands Windows command-line dashes; no AuditFlow source is a Windows command line',
  base64: 'no AuditFlow field holds base64-encoded text',
  base64offset: 'no AuditFlow field holds base64-encoded text',
  utf16le: 'it only applies with base64',
  utf16be: 'it only applies with base64',
  utf16: 'it only applies with base64',
  wide: 'it only applies with base64',
  expand: 'placeholders are not supported; write the values into the rule',
  fieldref: 'comparing two fields of one event is not supported',
};

export interface SigmaLogsource {
  /** `linux/sshd`, `kubernetes/audit`, ... */
  name: string;
  /** Whether the event came from this logsource: every field of `requires` has one of its values. */
  scope: EventPredicate;
  /** The exact values (dotted AuditFlow path → one of) an event of this logsource carries; the rule index keys on them. */
  requires: ReadonlyMap<string, readonly string[]>;
  /** The AuditFlow path of a Sigma field name, or undefined when the logsource has no such field. */
  resolve(field: string): string[] | undefined;
  /** Where keyword (unnamed) values are searched; undefined when the logsource has no full text. */
  keywordPath: string[] | undefined;
}

type Json = Record<string, unknown>;

const inList = (path: readonly string[], values: readonly string[]): EventPredicate => {
  const set = new Set(values);
  return (context) => {
    const value = context.get(path);
    return typeof value === 'string' && set.has(value);
  };
};
/** A logsource's scope and the requirement the index reads, from one table. */
function scoped(requires: Readonly<Record<string, readonly string[]>>): Pick<SigmaLogsource, 'scope' | 'requires'> {
  const tests = Object.entries(requires).map(([path, values]) => inList(path.split('.'), values));
  return { scope: (context) => tests.every((test) => test(context)), requires: new Map(Object.entries(requires)) };
}

function linux(service: string, programs: readonly string[] | undefined, extra: Readonly<Record<string, string>> = {}): SigmaLogsource {
  const fields = { ...LINUX_FIELDS, ...extra };
  return {
    name: `linux/${service}`,
    // The program first: of fields equally shared, the index keys on the first, and the program is the narrower.
    ...scoped({ ...(programs ? { 'source.program': programs } : {}), 'source.kind': ['syslog', 'journald'] }),
    resolve: (field) => (Object.hasOwn(fields, field) ? fields[field]!.split('.') : undefined),
    keywordPath: ['details', 'message'],
  };
}

const LOGSOURCES: Readonly<Record<string, SigmaLogsource>> = {
  'linux/auth': linux('auth', AUTH_PROGRAMS),
  'linux/sshd': linux('sshd', SSHD_PROGRAMS),
  'linux/sudo': linux('sudo', ['sudo'], SUDO_FIELDS),
  'linux/syslog': linux('syslog', undefined),
  'linux/': linux('syslog', undefined),
  'kubernetes/audit': {
    name: 'kubernetes/audit',
    ...scoped({ 'source.kind': ['k8s_audit'] }),
    resolve: (field) => {
      const path = field.split('.');
      return (K8S_AUDIT_FIELDS as readonly string[]).includes(path[0]!) ? ['source', 'original', ...path] : undefined;
    },
    keywordPath: undefined,
  },
};

/** The logsources a Sigma rule may name, for messages and the docs. */
export const SIGMA_LOGSOURCES = ['linux/auth', 'linux/sshd', 'linux/sudo', 'linux/syslog', 'kubernetes/audit'] as const;

/**
 * Reads a rule's `logsource`: undefined for AuditFlow's own rules (no
 * logsource, or `product: auditflow`), the Sigma logsource otherwise; a
 * string when the logsource is one AuditFlow cannot receive.
 */
export function sigmaLogsource(raw: unknown): SigmaLogsource | undefined | string {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) return 'logsource must be a mapping of product, service and category';
  const logsource = raw as Json;
  for (const key of Object.keys(logsource)) {
    if (!['product', 'service', 'category', 'definition'].includes(key)) return `unknown logsource key '${key}'`;
  }
  const product = logsource['product'];
  if (product === 'auditflow') return undefined;
  if (logsource['category'] !== undefined) {
    return `logsource category '${String(logsource['category'])}' is not supported (AuditFlow receives ${SIGMA_LOGSOURCES.join(', ')})`;
  }
  const key = `${String(product ?? '')}/${logsource['service'] === undefined ? '' : String(logsource['service'])}`;
  const found = LOGSOURCES[key];
  if (!found) return `logsource ${key} is not one AuditFlow receives (supported: ${SIGMA_LOGSOURCES.join(', ')}, or product auditflow)`;
  return found;
}

/**
 * Compiles one `field|modifiers: values` entry of a Sigma selection with
 * Sigma's semantics: strings are case-insensitive with `*` and `?` wildcards
 * (`\` escapes them) unless `|cased`; `|re` is case-sensitive unless `|i`.
 */
export function compileSigmaFieldMatcher(key: string, raw: unknown, logsource: SigmaLogsource): EventPredicate {
  const [field, ...modifierNames] = key.split('|');
  if (field === undefined || field === '') throw new MatcherError('a Sigma field name is missing');
  const path = logsource.resolve(field);
  if (!path) throw new MatcherError(`field '${field}' does not exist in ${logsource.name} (see the field mapping in docs/analysis-rules.md)`);
  return compileSigmaValues(path, modifierNames, raw, field);
}

/** Keyword values (a selection that is a list of strings): each is searched in the message text. */
export function compileSigmaKeywords(values: unknown[], logsource: SigmaLogsource): EventPredicate {
  if (!logsource.keywordPath) throw new MatcherError(`${logsource.name} has no message text for keyword search; name the field instead`);
  for (const value of values) {
    if (typeof value !== 'string' && typeof value !== 'number') throw new MatcherError('keywords must be strings');
  }
  return compileSigmaValues(logsource.keywordPath, ['contains'], values, 'keywords');
}

const SUPPORTED = new Set(['contains', 'startswith', 'endswith', 'all', 're', 'i', 'm', 's', 'cidr', 'exists', 'lt', 'lte', 'gt', 'gte', 'cased']);

function compileSigmaValues(path: string[], modifierNames: string[], raw: unknown, field: string): EventPredicate {
  const modifiers = new Set<string>();
  for (const name of modifierNames) {
    if (Object.hasOwn(REFUSED_MODIFIERS, name)) throw new MatcherError(`modifier '${name}' is not supported: ${REFUSED_MODIFIERS[name]}`);
    if (!SUPPORTED.has(name)) throw new MatcherError(`unknown Sigma modifier '${name}'`);
    modifiers.add(name);
  }
  if (['i', 'm', 's'].some((m) => modifiers.has(m)) && !modifiers.has('re')) throw new MatcherError("'i', 'm' and 's' only modify 're'");
  if (modifiers.has('exists')) {
    if (modifiers.size > 1 || typeof raw !== 'boolean') throw new MatcherError("'exists' takes true or false and no other modifier");
    return (context) => {
      const value = context.get(path);
      return (value !== undefined && value !== null) === raw;
    };
  }
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) throw new MatcherError(`field '${field}' has an empty value list`);
  const tests = values.map((value) => {
    if (value !== null && typeof value === 'object') throw new MatcherError(`values of '${field}' must be scalars`);
    return sigmaValueTest(value as string | number | boolean | null, modifiers, field);
  });
  const all = modifiers.has('all');
  const combined = tests.length === 1 ? tests[0]! : all ? (v: unknown) => tests.every((t) => t(v)) : (v: unknown) => tests.some((t) => t(v));
  return (context: EventContext) => {
    const value = context.get(path);
    if (Array.isArray(value)) return all ? tests.every((t) => value.some((item) => t(item))) : value.some((item) => combined(item));
    return combined(value);
  };
}

function sigmaValueTest(expected: string | number | boolean | null, modifiers: ReadonlySet<string>, field: string): (value: unknown) => boolean {
  const numeric = ['lt', 'lte', 'gt', 'gte'].filter((m) => modifiers.has(m));
  const string = ['contains', 'startswith', 'endswith', 're', 'cidr'].filter((m) => modifiers.has(m));
  if (numeric.length + string.length > 1) throw new MatcherError(`field '${field}' combines modifiers that exclude each other`);
  if (expected === null) return (v) => v === null || v === undefined;
  if (numeric[0]) {
    if (typeof expected !== 'number') throw new MatcherError(`'${numeric[0]}' of '${field}' needs a number`);
    const op = numeric[0];
    return (v) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
      if (!Number.isFinite(n)) return false;
      return op === 'lt' ? n < expected : op === 'lte' ? n <= expected : op === 'gt' ? n > expected : n >= expected;
    };
  }
  const text = String(expected);
  if (modifiers.has('re')) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(text, `${modifiers.has('i') ? 'i' : ''}${modifiers.has('m') ? 'm' : ''}${modifiers.has('s') ? 's' : ''}`);
    } catch (error) {
      throw new MatcherError(`invalid regular expression for '${field}': ${(error as Error).message}`);
    }
    return (v) => (typeof v === 'string' || typeof v === 'number') && pattern.test(String(v));
  }
  if (modifiers.has('cidr')) {
    return cidrTest(text, field);
  }
  const body = wildcardSource(text);
  const source = modifiers.has('contains') ? `.*${body}.*` : modifiers.has('startswith') ? `${body}.*` : modifiers.has('endswith') ? `.*${body}` : body;
  const pattern = new RegExp(`^(?:${source})$`, modifiers.has('cased') ? 's' : 'is');
  return (v) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && pattern.test(String(v));
}

/** Sigma's wildcards: `*` any run, `?` one character, `\*` `\?` `\\` literal. */
function wildcardSource(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && (text[i + 1] === '*' || text[i + 1] === '?' || text[i + 1] === '\\')) {
      out += `\\${text[i + 1]}`;
      i++;
    } else if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}
