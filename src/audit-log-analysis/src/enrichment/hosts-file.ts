import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { HostEnrichment } from '@auditflow/common';
import { AfHostsInvalidError, locatedProblems, parseYamlFile, type YamlLocator, type YamlProblem } from '@auditflow/common/platform';
import { isMap } from 'yaml';
import { parseAddress } from './ip-scope.ts';

/** A hosts file that cannot be used; every problem is reported at once, each at file:line:col. */
export class HostsFileError extends AfHostsInvalidError {
  readonly problems: YamlProblem[];
  readonly fileName: string;

  constructor(fileName: string, problems: YamlProblem[]) {
    // Every problem, not a summary: the operator fixes the whole file in one go.
    super(locatedProblems(fileName, problems).join('; '), { details: problems });
    this.problems = problems;
    this.fileName = fileName;
  }
}

/**
 * Owner and role of the hosts events come from (HOSTS_FILE, docs/enrichment.md), found
 * by the host name an event carries (case-insensitive), by one of the host's addresses,
 * or by the first label when one side names the host by a longer domain name (syslog
 * says `pi3`, the inventory `pi3.jdevlab.local`, or the other way round). A first label
 * two hosts share matches neither.
 */
export class HostDirectory {
  readonly #byName = new Map<string, HostEnrichment>();
  readonly #byShortName = new Map<string, HostEnrichment | null>();
  readonly #byAddress = new Map<string, HostEnrichment>();

  get size(): number {
    return this.#byName.size;
  }

  add(host: HostEnrichment, addresses: readonly string[]): void {
    const entry = Object.freeze({ ...host, ...(host.groups ? { groups: Object.freeze([...host.groups]) as string[] } : {}) });
    const name = host.name.toLowerCase();
    this.#byName.set(name, entry);
    const short = firstLabel(name);
    if (short !== name) this.#byShortName.set(short, this.#byShortName.has(short) ? null : entry);
    for (const address of addresses) this.#byAddress.set(address, entry);
  }

  find(hostname: string): HostEnrichment | undefined {
    const name = hostname.trim().toLowerCase();
    const found = this.#byName.get(name);
    if (found !== undefined) return found;
    const parsed = parseAddress(name);
    if (parsed !== undefined) return this.#byAddress.get(parsed.address);
    const short = firstLabel(name);
    return this.#byShortName.get(name) ?? (short === name ? undefined : (this.#byName.get(short) ?? this.#byShortName.get(short) ?? undefined));
  }
}

function firstLabel(name: string): string {
  const dot = name.indexOf('.');
  return dot > 0 ? name.slice(0, dot) : name;
}

const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252}[A-Za-z0-9_])?$/;
const TEXT_FIELDS = ['owner', 'role'] as const;
const KNOWN = new Set(['owner', 'role', 'groups', 'addresses', 'description']);

export function loadHostsFileSync(path: string): HostDirectory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new HostsFileError(path, [{ line: 1, column: 1, path: '', message: `cannot read the file: ${(error as Error).message}` }]);
  }
  return parseHostsFile(text, path);
}

/**
 * Reads a hosts file:
 *
 *   hosts:
 *     pi-1:
 *       owner: alice
 *       role: k3s-server
 *       groups: [k3s_server]
 *       addresses: [192.168.1.11]
 *
 * Every problem is reported at once, at file:line:col.
 */
export function parseHostsFile(text: string, fileName: string): HostDirectory {
  const { document, problems, at } = parseYamlFile(text);
  if (problems.length > 0) throw new HostsFileError(fileName, problems);
  const root = document.toJS() as unknown;
  const directory = new HostDirectory();
  if (!isMap(document.contents) || !isObject(root)) {
    at.report([], 'the file must be a mapping with `hosts`');
    throw new HostsFileError(fileName, problems);
  }
  for (const key of Object.keys(root)) if (key !== 'hosts') at.report([key], `unknown key '${key}' (known: hosts)`, { atKey: true });
  const hosts = root['hosts'] ?? {};
  if (!isObject(hosts)) at.report(['hosts'], '`hosts` must be a mapping of host name to owner, role, groups and addresses');
  const owners = new Map<string, string>();
  const seenAddresses = new Map<string, string>();
  for (const [name, raw] of Object.entries(isObject(hosts) ? hosts : {})) {
    const path = ['hosts', name];
    if (!HOST_NAME.test(name)) at.report(path, `'${name}' is not a host name`, { atKey: true });
    if (owners.has(name.toLowerCase())) at.report(path, `host '${name}' is listed twice (names are case-insensitive)`, { atKey: true });
    owners.set(name.toLowerCase(), name);
    const entry = raw ?? {};
    if (!isObject(entry)) {
      at.report(path, 'a host must be a mapping with owner, role, groups and addresses');
      continue;
    }
    const host: HostEnrichment = { name };
    for (const key of Object.keys(entry)) if (!KNOWN.has(key)) at.report([...path, key], `unknown key '${key}' (known: ${[...KNOWN].join(', ')})`, { atKey: true });
    for (const field of TEXT_FIELDS) {
      const value = entry[field];
      if (value === undefined || value === null) continue;
      if (typeof value !== 'string' || value === '' || value.length > 255) at.report([...path, field], `${field} must be a non-empty string of at most 255 characters`);
      else host[field] = value;
    }
    const groups = listOf(entry['groups'], [...path, 'groups'], at, (value) => typeof value === 'string' && value !== '' && value.length <= 255, 'a group name');
    if (groups.length > 64) at.report([...path, 'groups'], 'at most 64 groups');
    if (groups.length > 0) host.groups = groups.slice(0, 64);
    const addresses: string[] = [];
    listOf(entry['addresses'], [...path, 'addresses'], at, (value) => typeof value === 'string' && isIP(value) !== 0, 'an IPv4 or IPv6 address').forEach((text, index) => {
      const address = parseAddress(text)!.address;
      const other = seenAddresses.get(address);
      if (other !== undefined && other !== name) at.report([...path, 'addresses', index], `address ${text} is also listed for host '${other}'`);
      seenAddresses.set(address, name);
      addresses.push(address);
    });
    directory.add(host, addresses);
  }
  if (problems.length > 0) throw new HostsFileError(fileName, problems.sort((a, b) => a.line - b.line || a.column - b.column));
  return directory;
}

function listOf(value: unknown, path: (string | number)[], at: YamlLocator, valid: (item: unknown) => boolean, what: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    at.report(path, `must be a list of ${what}s`);
    return [];
  }
  const items: string[] = [];
  value.forEach((item, index) => {
    if (valid(item)) items.push(item as string);
    else at.report([...path, index], `'${String(item)}' is not ${what}`);
  });
  return items;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
