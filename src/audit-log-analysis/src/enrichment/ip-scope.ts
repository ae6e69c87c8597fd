import { BlockList, isIP, SocketAddress } from 'node:net';
import type { IpScope } from '@auditflow/common';

/**
 * The special-purpose ranges of the IANA IPv4 and IPv6 registries (RFC 6890
 * and later), most specific first: the first list an address is in decides
 * its scope. docs/enrichment.md shows the same table.
 */
const RANGES: readonly (readonly [IpScope, readonly string[]])[] = [
  ['unspecified', ['0.0.0.0/32', '::/128']],
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['documentation', ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/32', '3fff::/20']],
  ['cgnat', ['100.64.0.0/10']],
  ['private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']],
  ['link-local', ['169.254.0.0/16', 'fe80::/10']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  // "This network", IETF protocol assignments, benchmarking, the future-use block and broadcast;
  // discard-only and the IETF IPv6 block (Teredo and ORCHID included).
  ['reserved', ['0.0.0.0/8', '192.0.0.0/24', '198.18.0.0/15', '240.0.0.0/4', '100::/64', '2001::/23']],
];

const LISTS = RANGES.map(([scope, networks]) => {
  const list = new BlockList();
  for (const network of networks) {
    const [address, prefix] = network.split('/');
    list.addSubnet(address!, Number(prefix), isIP(address!) === 4 ? 'ipv4' : 'ipv6');
  }
  return [scope, list] as const;
});

/** IPv6 global unicast: anything else outside the lists above is not routed on the Internet. */
const GLOBAL_UNICAST = new BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

/** An address ready to classify and look up: canonical text, its family, IPv4-mapped IPv6 unwrapped. */
export interface ParsedAddress {
  address: string;
  family: 4 | 6;
}

const MAPPED_DOTTED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;
const MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i;

/**
 * Parses the source address of an event. A zone index (`fe80::1%eth0`) is dropped and
 * an IPv4-mapped IPv6 address (`::ffff:203.0.113.7`, what a dual-stack socket reports)
 * becomes its IPv4 address, so it gets the same answer. Anything else (a host name,
 * `N/A`, a network) is undefined: there is no address to enrich.
 */
export function parseAddress(text: string): ParsedAddress | undefined {
  const trimmed = text.trim();
  const zone = trimmed.indexOf('%');
  const bare = zone >= 0 ? trimmed.slice(0, zone) : trimmed;
  const family = isIP(bare);
  if (family === 4) return { address: bare, family: 4 };
  if (family !== 6) return undefined;
  const dotted = MAPPED_DOTTED.exec(bare);
  if (dotted && isIP(dotted[1]!) === 4) return { address: dotted[1]!, family: 4 };
  const hex = MAPPED_HEX.exec(bare);
  if (hex) {
    const high = Number.parseInt(hex[1]!, 16);
    const low = Number.parseInt(hex[2]!, 16);
    return { address: `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`, family: 4 };
  }
  // The canonical text (RFC 5952: lower case, zeros compressed), so equal addresses are equal strings.
  return { address: new SocketAddress({ address: bare, family: 'ipv6' }).address, family: 6 };
}

/** The scope of a parsed address (see RANGES). */
export function scopeOf(parsed: ParsedAddress): IpScope {
  const type = parsed.family === 4 ? 'ipv4' : 'ipv6';
  for (const [scope, list] of LISTS) if (list.check(parsed.address, type)) return scope;
  if (parsed.family === 6 && !GLOBAL_UNICAST.check(parsed.address, 'ipv6')) return 'reserved';
  return 'public';
}
