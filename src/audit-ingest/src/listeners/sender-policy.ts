import { BlockList, isIP } from 'node:net';
import type { AuditEvent } from '@auditflow/common';

/**
 * What the plain (unauthenticated) syslog listeners believe about a sender.
 * Plain TCP and UDP carry no identity: the source address of a UDP datagram
 * can be forged from anywhere on the LAN, and the HOSTNAME field is whatever
 * the sender wrote. So plain syslog takes only allow-listed addresses, and
 * where the operator declares which address each host sends from, an event
 * whose claimed HOSTNAME does not fit its sender address is flagged
 * (`source.host_mismatch`), not trusted silently.
 */
export class SenderPolicy {
  readonly #allowed = new BlockList();
  readonly #hosts: ReadonlyMap<string, ReadonlySet<string>>;
  readonly #addressHosts = new Map<string, string>();

  /** `allowed`: CIDRs or single addresses. `hosts`: claimed host name → the addresses it sends from. */
  constructor(allowed: readonly string[], hosts: ReadonlyMap<string, readonly string[]> = new Map()) {
    for (const entry of allowed) addRange(this.#allowed, entry);
    const normalised = new Map<string, Set<string>>();
    for (const [host, addresses] of hosts) {
      normalised.set(host.toLowerCase(), new Set(addresses.map(bareAddress)));
      for (const address of addresses) this.#addressHosts.set(bareAddress(address), host.toLowerCase());
    }
    this.#hosts = normalised;
  }

  /** Whether a plain-syslog sender at this address may send at all. */
  allows(address: string | undefined): boolean {
    if (!address) return false;
    const bare = bareAddress(address);
    const family = isIP(bare);
    if (family === 0) return false;
    return this.#allowed.check(bare, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * Whether the claimed host contradicts the sender: the host is mapped to
   * other addresses, or the address is mapped to another host. Unmapped
   * hosts and addresses are not judged (nothing to compare with).
   */
  mismatch(claimedHost: string, address: string | undefined): boolean {
    if (!address) return false;
    const bare = bareAddress(address);
    const host = claimedHost.toLowerCase();
    const addresses = this.#hosts.get(host);
    if (addresses !== undefined && !addresses.has(bare)) return true;
    const owner = this.#addressHosts.get(bare);
    return owner !== undefined && owner !== host;
  }
}

/** Flags an event whose claimed host does not fit its sender (a fresh object; the event stays contract-valid). */
export function flagHostMismatch(event: AuditEvent): AuditEvent {
  return { ...event, source: { ...(event.source ?? { kind: 'syslog' }), host_mismatch: true } };
}

/** Parses `host=addr[|addr...]` entries (SYSLOG_SENDER_HOSTS). Throws a message naming the bad entry. */
export function parseSenderHosts(entries: readonly string[]): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const entry of entries) {
    const at = entry.indexOf('=');
    const host = entry.slice(0, at).trim();
    const addresses = entry.slice(at + 1).split('|').map((part) => part.trim()).filter((part) => part !== '');
    if (at <= 0 || addresses.length === 0 || addresses.some((address) => isIP(address) === 0)) {
      throw new Error(`'${entry}' is not host=address[|address...]`);
    }
    hosts.set(host, [...(hosts.get(host) ?? []), ...addresses]);
  }
  return hosts;
}

/** Throws a message naming an entry that is no CIDR or address. */
export function assertCidrs(entries: readonly string[]): void {
  const probe = new BlockList();
  for (const entry of entries) addRange(probe, entry);
}

function addRange(list: BlockList, entry: string): void {
  const [address = '', prefix] = entry.trim().split('/');
  const family = isIP(address);
  if (family === 0) throw new Error(`'${entry}' is not an address or CIDR`);
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (prefix === undefined) {
    list.addAddress(address, type);
    return;
  }
  const bits = Number(prefix);
  if (!/^\d+$/.test(prefix) || bits > (family === 6 ? 128 : 32)) throw new Error(`'${entry}' has an invalid prefix length`);
  list.addSubnet(address, bits, type);
}

/** `::ffff:10.0.0.5` → `10.0.0.5`; `10.0.0.5:514` and `[fd00::1]:514` → the address. */
export function bareAddress(address: string): string {
  let bare = address;
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(bare);
  if (bracket) bare = bracket[1]!;
  else if (/^[\d.]+:\d+$/.test(bare)) bare = bare.slice(0, bare.lastIndexOf(':'));
  return bare.startsWith('::ffff:') && isIP(bare.slice(7)) === 4 ? bare.slice(7) : bare;
}
