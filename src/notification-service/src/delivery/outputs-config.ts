import { readFileSync } from 'node:fs';
import { type Env, parseDuration, type YamlLocator, type YamlPath, type YamlProblem, AfOutputsInvalidError } from '@auditflow/common';
import { isLabelName, LABEL_NAME_RULE } from '@auditflow/common/contracts';
import { parseYamlFile, problemSummary } from '@auditflow/common/platform';
import { isMap } from 'yaml';
import { parseAllowEntry } from '../response/address-allowlist.ts';
import { type CompiledMatcher, compileMatcher, type Matcher } from './matchers.ts';

export const OUTPUT_TYPES = ['alertmanager', 'webhook', 'slack', 'ntfy', 'smtp', 'crowdsec'] as const;
export type OutputType = (typeof OUTPUT_TYPES)[number];

interface OutputBase {
  name: string;
  type: OutputType;
  timeoutMs: number;
}

export interface AlertmanagerOutput extends OutputBase {
  type: 'alertmanager';
  /** Base URL; the sender posts to `<url>/api/v2/alerts`. */
  url: string;
  /** Prefix of the `generatorURL` of each alert (e.g. the dashboard's `/alerts/` page). */
  linkUrl?: string;
}

export interface WebhookOutput extends OutputBase {
  type: 'webhook';
  url: string;
  /** HMAC-SHA256 key of the signature header. */
  secret: string;
}

export interface SlackOutput extends OutputBase {
  type: 'slack';
  /** The incoming-webhook URL (a secret: it carries the token). */
  url: string;
  linkUrl?: string;
}

export interface NtfyOutput extends OutputBase {
  type: 'ntfy';
  url: string;
  topic: string;
  token?: string;
}

export type SmtpSecurity = 'starttls' | 'tls' | 'none';

export interface SmtpOutput extends OutputBase {
  type: 'smtp';
  host: string;
  port: number;
  /** starttls: plain connection upgraded by STARTTLS (required); tls: TLS from the first byte; none: tests only. */
  security: SmtpSecurity;
  username?: string;
  password?: string;
  from: string;
  to: string[];
  /** Extra CA (PEM) for a private mail relay. */
  ca?: string;
  linkUrl?: string;
}

export type ResponseMode = 'dry-run' | 'enforce';

/** A response output: bans the alert's source address through a CrowdSec Local API (src/notification-service/src/response). */
export interface CrowdsecOutput extends OutputBase {
  type: 'crowdsec';
  /** dry-run (the default) records and shows the decision; enforce pushes it. */
  mode: ResponseMode;
  /** The Local API's base URL; required in enforce mode. */
  url?: string;
  /** The machine (watcher) the decisions are pushed as; required in enforce mode. */
  machineId?: string;
  password?: string;
  /** How long every decision lasts. */
  durationMs: number;
  /** Addresses and CIDR ranges never banned (loopback is always added). */
  allowlist: string[];
  /** How long an address a dashboard user was seen at stays allow-listed. */
  operatorAllowMs: number;
}

export type OutputConfig = AlertmanagerOutput | WebhookOutput | SlackOutput | NtfyOutput | SmtpOutput | CrowdsecOutput;

export interface RouteConfig {
  /** Position in the tree (`route`, `route.routes[0]`, ...), stable while the file is. */
  id: string;
  receiver: string;
  matchers: CompiledMatcher[];
  groupBy: string[];
  groupWaitMs: number;
  repeatIntervalMs: number;
  continue: boolean;
  routes: RouteConfig[];
}

export interface DeliveryPolicy {
  maxAttempts: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export interface OutputsConfig {
  outputs: Map<string, OutputConfig>;
  route: RouteConfig;
  delivery: DeliveryPolicy;
}

/** An outputs file that cannot be used; every problem is reported at once, each at file:line:col. */
export class OutputsConfigError extends AfOutputsInvalidError {
  readonly problems: YamlProblem[];
  readonly fileName: string;

  constructor(fileName: string, problems: YamlProblem[]) {
    super(fileName, problemSummary(fileName, problems), { details: problems });
    this.problems = problems;
    this.fileName = fileName;
  }
}

const DEFAULTS = { groupWaitMs: 30_000, repeatIntervalMs: 4 * 3_600_000, timeoutMs: 10_000 };
/** Bounds of a crowdsec output: no decision is forever, and operator addresses are forgotten. */
export const RESPONSE_LIMITS = {
  defaultDurationMs: 4 * 3_600_000,
  minDurationMs: 60_000,
  maxDurationMs: 7 * 86_400_000,
  defaultOperatorAllowMs: 24 * 3_600_000,
  maxOperatorAllowMs: 30 * 86_400_000,
};
const DEFAULT_POLICY: DeliveryPolicy = { maxAttempts: 10, backoffInitialMs: 1000, backoffMaxMs: 300_000 };
// The name is judged by the shared label grammar (isLabelName), not by this pattern.
const MATCHER = /^\s*([^\s=!~]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

type Json = Record<string, unknown>;

/** Reads and validates an outputs file; secrets named by `{ env }` come from `env`, `{ file }` from disk. */
export function loadOutputsFileSync(path: string, env: Env): OutputsConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new OutputsConfigError(path, [{ line: 1, column: 1, path: '', message: `cannot read the file: ${(error as Error).message}` }]);
  }
  return parseOutputsConfig(text, path, env);
}

export function parseOutputsConfig(text: string, fileName: string, env: Env): OutputsConfig {
  const { document, problems, at } = parseYamlFile(text);
  if (problems.length > 0) throw new OutputsConfigError(fileName, problems);
  const root = document.toJS() as unknown;
  if (!isMap(document.contents) || !isObject(root)) {
    at.report([], 'the file must be a mapping with `outputs` and `route`');
    throw new OutputsConfigError(fileName, problems);
  }
  const parser = new Parser(at, env);
  const config = parser.file(root);
  if (problems.length > 0 || config === undefined) {
    throw new OutputsConfigError(fileName, problems.sort((a, b) => a.line - b.line || a.column - b.column));
  }
  return config;
}

class Parser {
  readonly #at: YamlLocator;
  readonly #env: Env;

  constructor(at: YamlLocator, env: Env) {
    this.#at = at;
    this.#env = env;
  }

  file(root: Json): OutputsConfig | undefined {
    this.#keys(root, [], ['outputs', 'route', 'delivery']);
    const outputs = new Map<string, OutputConfig>();
    if (!Array.isArray(root.outputs) || root.outputs.length === 0) {
      this.#at.report(['outputs'], '`outputs` must be a non-empty list');
    } else {
      root.outputs.forEach((raw, index) => {
        const output = this.#output(raw, ['outputs', index]);
        if (output === undefined) return;
        if (outputs.has(output.name)) this.#at.report(['outputs', index, 'name'], `output name "${output.name}" is used twice`);
        outputs.set(output.name, output);
      });
    }
    const delivery = this.#policy(root.delivery, ['delivery']);
    if (root.route === undefined) {
      this.#at.report([], '`route` is required (the default route names the receiver of every alert)', { atKey: false });
      return undefined;
    }
    // Receivers are checked against every declared name, so an output with its own problems
    // does not also make each route naming it a problem.
    const declared = new Set(
      (Array.isArray(root.outputs) ? root.outputs : []).map((raw) => (isObject(raw) ? raw.name : undefined)).filter((n) => typeof n === 'string'),
    );
    const route = this.#route(root.route, ['route'], undefined, declared);
    if (route === undefined) return undefined;
    return { outputs, route, delivery };
  }

  #output(raw: unknown, path: YamlPath): OutputConfig | undefined {
    if (!isObject(raw)) {
      this.#at.report(path, 'an output must be a mapping');
      return undefined;
    }
    const name = this.#string(raw, path, 'name');
    if (name !== undefined && !NAME.test(name)) this.#at.report([...path, 'name'], 'a name is lower-case letters, digits, - and _');
    const type = this.#string(raw, path, 'type');
    if (type !== undefined && !(OUTPUT_TYPES as readonly string[]).includes(type)) {
      this.#at.report([...path, 'type'], `unknown output type "${type}" (one of ${OUTPUT_TYPES.join(', ')})`);
      return undefined;
    }
    const timeoutMs = this.#duration(raw, path, 'timeout') ?? DEFAULTS.timeoutMs;
    if (name === undefined || type === undefined) return undefined;
    const base = { name, timeoutMs };
    const common = ['name', 'type', 'timeout'];
    switch (type as OutputType) {
      case 'alertmanager': {
        this.#keys(raw, path, [...common, 'url', 'link_url']);
        const url = this.#url(raw, path, 'url');
        const linkUrl = this.#optionalUrl(raw, path, 'link_url');
        return url === undefined ? undefined : { ...base, type: 'alertmanager', url, ...(linkUrl ? { linkUrl } : {}) };
      }
      case 'webhook': {
        this.#keys(raw, path, [...common, 'url', 'secret']);
        const url = this.#url(raw, path, 'url');
        const secret = this.#secret(raw, path, 'secret', true);
        return url === undefined || secret === undefined ? undefined : { ...base, type: 'webhook', url, secret };
      }
      case 'slack': {
        this.#keys(raw, path, [...common, 'url', 'link_url']);
        const url = this.#secret(raw, path, 'url', true);
        if (url !== undefined && !isHttpUrl(url)) this.#at.report([...path, 'url'], 'must resolve to an http(s) URL');
        const linkUrl = this.#optionalUrl(raw, path, 'link_url');
        return url === undefined ? undefined : { ...base, type: 'slack', url, ...(linkUrl ? { linkUrl } : {}) };
      }
      case 'ntfy': {
        this.#keys(raw, path, [...common, 'url', 'topic', 'token']);
        const url = this.#url(raw, path, 'url');
        const topic = this.#string(raw, path, 'topic');
        if (topic !== undefined && !/^[-_A-Za-z0-9]{1,64}$/.test(topic)) this.#at.report([...path, 'topic'], 'a topic is 1-64 of A-Z a-z 0-9 _ -');
        const token = this.#secret(raw, path, 'token', false);
        if (url === undefined || topic === undefined) return undefined;
        return { ...base, type: 'ntfy', url, topic, ...(token === undefined ? {} : { token }) };
      }
      case 'smtp':
        return this.#smtp(raw, path, base, common);
      case 'crowdsec':
        return this.#crowdsec(raw, path, base, common);
    }
  }

  #crowdsec(raw: Json, path: YamlPath, base: { name: string; timeoutMs: number }, common: string[]): CrowdsecOutput | undefined {
    this.#keys(raw, path, [...common, 'mode', 'url', 'machine_id', 'password', 'duration', 'allowlist', 'allowlist_file', 'operator_allow_for']);
    const mode = (raw.mode ?? 'dry-run') as ResponseMode;
    if (mode !== 'dry-run' && mode !== 'enforce') this.#at.report([...path, 'mode'], '`mode` is dry-run (the default) or enforce');
    const enforce = mode === 'enforce';
    const url = raw.url === undefined && !enforce ? undefined : this.#url(raw, path, 'url');
    const machineId = raw.machine_id === undefined && !enforce ? undefined : this.#plainOrSecret(raw, path, 'machine_id');
    const password = this.#secret(raw, path, 'password', enforce);
    const durationMs = this.#duration(raw, path, 'duration') ?? RESPONSE_LIMITS.defaultDurationMs;
    if (durationMs < RESPONSE_LIMITS.minDurationMs || durationMs > RESPONSE_LIMITS.maxDurationMs) {
      this.#at.report([...path, 'duration'], '`duration` is between 1m and 7d (every decision expires)');
    }
    const operatorAllowMs = this.#duration(raw, path, 'operator_allow_for') ?? RESPONSE_LIMITS.defaultOperatorAllowMs;
    if (operatorAllowMs < 60_000 || operatorAllowMs > RESPONSE_LIMITS.maxOperatorAllowMs) {
      this.#at.report([...path, 'operator_allow_for'], '`operator_allow_for` is between 1m and 30d');
    }
    const allowlist: string[] = [];
    if (raw.allowlist !== undefined) {
      if (!Array.isArray(raw.allowlist)) this.#at.report([...path, 'allowlist'], '`allowlist` is a list of addresses and CIDR ranges');
      else
        raw.allowlist.forEach((entry, index) => {
          const parsed = typeof entry === 'string' ? parseAllowEntry(entry) : undefined;
          if (parsed === undefined) this.#at.report([...path, 'allowlist', index], 'not an IP address or CIDR range such as 192.168.1.0/24');
          else allowlist.push(parsed);
        });
    }
    if (raw.allowlist_file !== undefined) {
      const file = this.#string(raw, path, 'allowlist_file');
      const text = file === undefined ? undefined : this.#readFile(file, [...path, 'allowlist_file']);
      // One address or range a line, `#` comments: the form the chart renders from response.allowlist.
      text?.split('\n').forEach((line, index) => {
        const entry = line.replace(/#.*/, '').trim();
        if (entry === '') return;
        const parsed = parseAllowEntry(entry);
        if (parsed === undefined) this.#at.report([...path, 'allowlist_file'], `${file}:${index + 1}: "${entry}" is not an IP address or CIDR range`);
        else allowlist.push(parsed);
      });
    }
    return {
      ...base,
      type: 'crowdsec',
      mode,
      ...(url === undefined ? {} : { url }),
      ...(machineId === undefined ? {} : { machineId }),
      ...(password === undefined ? {} : { password }),
      durationMs,
      allowlist,
      operatorAllowMs,
    };
  }

  /** A value that may be written as is or kept out of the file like a secret. */
  #plainOrSecret(raw: Json, path: YamlPath, key: string): string | undefined {
    return typeof raw[key] === 'string' ? this.#string(raw, path, key) : this.#secret(raw, path, key, true);
  }

  #smtp(raw: Json, path: YamlPath, base: { name: string; timeoutMs: number }, common: string[]): SmtpOutput | undefined {
    this.#keys(raw, path, [...common, 'host', 'port', 'security', 'username', 'password', 'from', 'to', 'ca_file', 'link_url']);
    const host = this.#string(raw, path, 'host');
    const security = (raw.security ?? 'starttls') as SmtpSecurity;
    if (!['starttls', 'tls', 'none'].includes(security)) this.#at.report([...path, 'security'], 'security is starttls, tls or none');
    const port = raw.port ?? (security === 'tls' ? 465 : 587);
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
      this.#at.report([...path, 'port'], 'port must be an integer 1-65535');
    }
    const username = raw.username === undefined ? undefined : this.#string(raw, path, 'username');
    const password = this.#secret(raw, path, 'password', false);
    if ((username === undefined) !== (password === undefined)) {
      this.#at.report(path, '`username` and `password` go together');
    }
    const from = this.#string(raw, path, 'from');
    const to = Array.isArray(raw.to) && raw.to.every((item) => typeof item === 'string' && item.includes('@')) ? (raw.to as string[]) : undefined;
    if (to === undefined || to.length === 0) this.#at.report([...path, 'to'], '`to` must be a non-empty list of addresses');
    let ca: string | undefined;
    if (raw.ca_file !== undefined) {
      const file = this.#string(raw, path, 'ca_file');
      if (file !== undefined) ca = this.#readFile(file, [...path, 'ca_file']);
    }
    const linkUrl = this.#optionalUrl(raw, path, 'link_url');
    if (host === undefined || from === undefined || to === undefined || typeof port !== 'number') return undefined;
    return {
      ...base,
      type: 'smtp',
      host,
      port,
      security,
      from,
      to,
      ...(username === undefined || password === undefined ? {} : { username, password }),
      ...(ca === undefined ? {} : { ca }),
      ...(linkUrl ? { linkUrl } : {}),
    };
  }

  #route(raw: unknown, path: YamlPath, parent: RouteConfig | undefined, outputs: ReadonlySet<unknown>): RouteConfig | undefined {
    if (!isObject(raw)) {
      this.#at.report(path, 'a route must be a mapping');
      return undefined;
    }
    this.#keys(raw, path, ['receiver', 'matchers', 'group_by', 'group_wait', 'repeat_interval', 'continue', 'routes']);
    const id = this.#at.describe(path).replace(/^\./, '');
    let receiver = parent?.receiver;
    if (raw.receiver !== undefined || parent === undefined) {
      receiver = this.#string(raw, path, 'receiver');
      if (receiver !== undefined && outputs.size > 0 && !outputs.has(receiver)) {
        this.#at.report([...path, 'receiver'], `no output is named "${receiver}"`);
      }
    }
    if (parent === undefined && raw.matchers !== undefined) this.#at.report([...path, 'matchers'], 'the default route matches every alert: it takes no matchers');
    const matchers: CompiledMatcher[] = [];
    if (raw.matchers !== undefined) {
      if (!Array.isArray(raw.matchers)) this.#at.report([...path, 'matchers'], '`matchers` is a list such as ["severity=~CRITICAL|HIGH"]');
      else raw.matchers.forEach((text, index) => {
        const compiled = this.#matcher(text, [...path, 'matchers', index]);
        if (compiled) matchers.push(compiled);
      });
    }
    let groupBy = parent?.groupBy ?? [];
    if (raw.group_by !== undefined) {
      if (!Array.isArray(raw.group_by) || !raw.group_by.every((item) => typeof item === 'string')) {
        this.#at.report([...path, 'group_by'], '`group_by` is a list of label names');
      } else {
        groupBy = raw.group_by as string[];
        groupBy.forEach((name, index) => {
          if (name !== '...' && !isLabelName(name)) this.#at.report([...path, 'group_by', index], `\`${name}\` is not ${LABEL_NAME_RULE} (or \`...\`)`);
        });
      }
    }
    if (raw.continue !== undefined && typeof raw.continue !== 'boolean') this.#at.report([...path, 'continue'], '`continue` is true or false');
    const route: RouteConfig = {
      id,
      receiver: receiver ?? '',
      matchers,
      groupBy,
      groupWaitMs: this.#duration(raw, path, 'group_wait') ?? parent?.groupWaitMs ?? DEFAULTS.groupWaitMs,
      repeatIntervalMs: this.#duration(raw, path, 'repeat_interval') ?? parent?.repeatIntervalMs ?? DEFAULTS.repeatIntervalMs,
      continue: raw.continue === true,
      routes: [],
    };
    if (raw.routes !== undefined) {
      if (!Array.isArray(raw.routes)) this.#at.report([...path, 'routes'], '`routes` is a list of routes');
      else
        raw.routes.forEach((child, index) => {
          const parsed = this.#route(child, [...path, 'routes', index], route, outputs);
          if (parsed) route.routes.push(parsed);
        });
    }
    return receiver === undefined ? undefined : route;
  }

  #matcher(text: unknown, path: YamlPath): CompiledMatcher | undefined {
    const match = typeof text === 'string' ? MATCHER.exec(text) : null;
    if (!match) {
      this.#at.report(path, 'a matcher reads `name=value`, `name!=value`, `name=~regex` or `name!~regex`');
      return undefined;
    }
    if (!isLabelName(match[1])) {
      this.#at.report(path, `\`${match[1]}\` is not ${LABEL_NAME_RULE}`);
      return undefined;
    }
    const op = match[2]!;
    const matcher: Matcher = { name: match[1]!, value: unquote(match[3]!), isRegex: op.includes('~'), isEqual: !op.startsWith('!') };
    try {
      return compileMatcher(matcher);
    } catch (error) {
      this.#at.report(path, `invalid regular expression: ${(error as Error).message}`);
      return undefined;
    }
  }

  #policy(raw: unknown, path: YamlPath): DeliveryPolicy {
    if (raw === undefined) return DEFAULT_POLICY;
    if (!isObject(raw)) {
      this.#at.report(path, '`delivery` must be a mapping');
      return DEFAULT_POLICY;
    }
    this.#keys(raw, path, ['max_attempts', 'backoff_initial', 'backoff_max']);
    const maxAttempts = raw.max_attempts ?? DEFAULT_POLICY.maxAttempts;
    if (typeof maxAttempts !== 'number' || !Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) {
      this.#at.report([...path, 'max_attempts'], '`max_attempts` is an integer 1-100');
    }
    return {
      maxAttempts: typeof maxAttempts === 'number' ? maxAttempts : DEFAULT_POLICY.maxAttempts,
      backoffInitialMs: this.#duration(raw, path, 'backoff_initial') ?? DEFAULT_POLICY.backoffInitialMs,
      backoffMaxMs: this.#duration(raw, path, 'backoff_max') ?? DEFAULT_POLICY.backoffMaxMs,
    };
  }

  /** A secret is never written into the file: it is `{ env: NAME }` or `{ file: /path }`. */
  #secret(raw: Json, path: YamlPath, key: string, required: boolean): string | undefined {
    const value = raw[key];
    const at = [...path, key];
    if (value === undefined) {
      if (required) this.#at.report(path, `\`${key}\` is required`);
      return undefined;
    }
    if (typeof value === 'string') {
      this.#at.report(at, `\`${key}\` is a secret: write { env: VARIABLE } or { file: /path }, never the value itself`);
      return undefined;
    }
    if (!isObject(value) || Object.keys(value).length !== 1 || (typeof value.env !== 'string' && typeof value.file !== 'string')) {
      this.#at.report(at, `\`${key}\` must be { env: VARIABLE } or { file: /path }`);
      return undefined;
    }
    if (typeof value.env === 'string') {
      const resolved = this.#env[value.env];
      if (resolved === undefined || resolved === '') {
        this.#at.report([...at, 'env'], `environment variable ${value.env} is not set`);
        return undefined;
      }
      return resolved;
    }
    const text = this.#readFile(value.file as string, [...at, 'file']);
    return text?.trim();
  }

  #readFile(file: string, at: YamlPath): string | undefined {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      this.#at.report(at, `cannot read ${file}: ${(error as Error).message}`);
      return undefined;
    }
  }

  #string(raw: Json, path: YamlPath, key: string): string | undefined {
    const value = raw[key];
    if (typeof value === 'string' && value.trim() !== '') return value;
    this.#at.report(value === undefined ? path : [...path, key], `\`${key}\` ${value === undefined ? 'is required' : 'must be a non-empty string'}`);
    return undefined;
  }

  #url(raw: Json, path: YamlPath, key: string): string | undefined {
    const value = this.#string(raw, path, key);
    if (value === undefined) return undefined;
    if (!isHttpUrl(value)) {
      this.#at.report([...path, key], `\`${key}\` must be an http(s) URL`);
      return undefined;
    }
    return value.replace(/\/+$/, '');
  }

  #optionalUrl(raw: Json, path: YamlPath, key: string): string | undefined {
    return raw[key] === undefined ? undefined : this.#url(raw, path, key);
  }

  #duration(raw: Json, path: YamlPath, key: string): number | undefined {
    const value = raw[key];
    if (value === undefined) return undefined;
    const ms = typeof value === 'string' ? parseDuration(value) : value === 0 ? 0 : undefined;
    if (ms === undefined) this.#at.report([...path, key], `\`${key}\` is a duration such as 500ms, 30s, 5m or 4h`);
    return ms;
  }

  #keys(raw: Json, path: YamlPath, allowed: readonly string[]): void {
    for (const key of Object.keys(raw)) {
      if (!allowed.includes(key)) this.#at.report([...path, key], `unknown key \`${key}\` (allowed: ${allowed.join(', ')})`, { atKey: true });
    }
  }
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function unquote(value: string): string {
  return /^"(.*)"$/.test(value) ? value.slice(1, -1) : value;
}
