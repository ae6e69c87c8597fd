import { BlockList, isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';

/**
 * The address of the person making a request: the socket's peer, unless that peer is a
 * trusted proxy (TRUSTED_PROXIES), in which case X-Forwarded-For is read from the right,
 * skipping trusted hops, to the first address a trusted proxy vouches for. A header from an
 * untrusted peer is never read, so a client cannot choose its own address.
 */
export class ClientAddressResolver {
  readonly #trusted = new BlockList();
  readonly #any: boolean;

  constructor(trustedProxies: readonly string[]) {
    for (const entry of trustedProxies) {
      const [address, prefix] = entry.split('/') as [string, string | undefined];
      const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.#trusted.addAddress(address, type);
      else this.#trusted.addSubnet(address, Number(prefix), type);
    }
    this.#any = trustedProxies.length > 0;
  }

  resolve(request: FastifyRequest): string | undefined {
    let address = plain(request.socket.remoteAddress);
    if (address === undefined || !this.#any) return address;
    const header = request.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((hop) => hop.trim()).filter(Boolean);
    while (address !== undefined && this.#isTrusted(address) && hops.length > 0) {
      address = plain(hops.pop());
    }
    return address;
  }

  #isTrusted(address: string): boolean {
    return this.#trusted.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }
}

/** `::ffff:192.0.2.1` (an IPv4 peer on a dual-stack socket) as `192.0.2.1`; undefined for a non-address. */
function plain(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(value);
  const address = mapped ? mapped[1]! : value;
  return isIP(address) === 0 ? undefined : address;
}
