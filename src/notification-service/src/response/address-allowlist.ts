import { BlockList, isIP } from 'node:net';

/** Never banned, whatever the configuration says: the host itself. */
export const ALWAYS_ALLOWED = ['127.0.0.0/8', '::1/128'];

/**
 * `192.0.2.7`, `192.168.1.0/24`, `2001:db8::/32` in canonical form, or undefined when it is none
 * of these. An IPv4 address inside IPv6 (`::ffff:192.0.2.7`) is read as the IPv4 address, the
 * way a dual-stack socket reports an IPv4 peer.
 */
export function parseAllowEntry(text: string): string | undefined {
  const [address, prefix, extra] = text.trim().split('/');
  if (extra !== undefined || address === undefined) return undefined;
  const canonical = canonicalAddress(address);
  if (canonical === undefined) return undefined;
  if (prefix === undefined) return canonical;
  if (!/^\d{1,3}$/.test(prefix)) return undefined;
  const bits = Number(prefix);
  return bits > (isIP(canonical) === 4 ? 32 : 128) ? undefined : `${canonical}/${bits}`;
}

/** The address in the form compared everywhere (IPv4-mapped IPv6 as IPv4), or undefined. */
export function canonicalAddress(text: string): string | undefined {
  const trimmed = text.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(trimmed);
  const address = mapped ? mapped[1]! : trimmed;
  const family = isIP(address);
  if (family === 0) return undefined;
  return family === 4 ? address : address.toLowerCase();
}

/** Why an address cannot be banned at all, or undefined when it can be. */
export function unbannableReason(address: string): string | undefined {
  if (address === '0.0.0.0' || address === '::') return 'the unspecified address';
  if (isIP(address) === 4) {
    const first = Number(address.split('.')[0]);
    if (first >= 224) return 'a multicast or reserved address';
  } else if (address.startsWith('ff')) return 'a multicast address';
  return undefined;
}

/** A fixed set of addresses and ranges; `match` names the entry that holds an address. */
export class AddressAllowlist {
  readonly #entries: { entry: string; list: BlockList }[];

  constructor(entries: readonly string[]) {
    this.#entries = [...ALWAYS_ALLOWED, ...entries].map((entry) => {
      const list = new BlockList();
      const [address, prefix] = entry.split('/') as [string, string | undefined];
      const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) list.addAddress(address, type);
      else list.addSubnet(address, Number(prefix), type);
      return { entry, list };
    });
  }

  match(address: string): string | undefined {
    const type = isIP(address) === 4 ? 'ipv4' : 'ipv6';
    return this.#entries.find(({ list }) => list.check(address, type))?.entry;
  }
}
