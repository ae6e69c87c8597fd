import { type AuditEvent, type Enrichment, eventClientIp, type IpEnrichment } from '@auditflow/common';
import type { HostDirectory } from './hosts-file.ts';
import type { AsnAnswer, CountryAnswer, IpDatabase } from './ip-database.ts';
import { parseAddress, scopeOf } from './ip-scope.ts';
import { LruCache } from './lru-cache.ts';

/** What the enricher reports, wired to metrics by the service. */
export interface EnricherHooks {
  cacheHit?(): void;
  cacheMiss?(): void;
  lookup?(database: 'country' | 'asn'): void;
  host?(known: boolean): void;
}

export interface EnricherOptions {
  country?: IpDatabase<CountryAnswer>;
  asn?: IpDatabase<AsnAnswer>;
  hosts?: HostDirectory;
  /** Addresses whose answer is kept. @default 10000 */
  cacheSize?: number;
  hooks?: EnricherHooks;
}

/** The cache's mark for "no address to enrich", so a repeated `N/A` is not parsed again. */
const NONE = null;

/**
 * Computes the `enrichment` of an event (docs/enrichment.md): scope, country and AS
 * of its source address from offline databases, and owner and role of its host from
 * the hosts file. Streams repeat addresses (a brute force is one address many times),
 * so address answers are kept in a bounded LRU cache; each answer is frozen, because
 * every event with that address shares it.
 */
export class Enricher {
  readonly #country: IpDatabase<CountryAnswer> | undefined;
  readonly #asn: IpDatabase<AsnAnswer> | undefined;
  readonly #hosts: HostDirectory | undefined;
  readonly #cache: LruCache<string, IpEnrichment | typeof NONE>;
  #hooks: EnricherHooks;

  constructor(options: EnricherOptions) {
    this.#country = options.country;
    this.#asn = options.asn;
    this.#hosts = options.hosts;
    this.#cache = new LruCache(options.cacheSize ?? 10_000);
    this.#hooks = options.hooks ?? {};
  }

  /** Reports lookups to `hooks` from now on (the metrics exist only once the service starts). */
  observe(hooks: EnricherHooks): void {
    this.#hooks = hooks;
  }

  /** The enrichment of an event, or undefined when there is nothing to say about it. */
  enrich(event: AuditEvent): Enrichment | undefined {
    const address = eventClientIp(event);
    const ip = address === undefined ? undefined : this.ip(address);
    const host = this.#hosts === undefined ? undefined : this.#hosts.find(event.server_hostname);
    if (this.#hosts !== undefined) this.#hooks.host?.(host !== undefined);
    if (ip === undefined && host === undefined) return undefined;
    return { ...(ip ? { ip } : {}), ...(host ? { host } : {}) };
  }

  /** The answer for one address as an event carries it; undefined when it is not an IP address. */
  ip(address: string): IpEnrichment | undefined {
    const cached = this.#cache.get(address);
    if (cached !== undefined) {
      this.#hooks.cacheHit?.();
      return cached ?? undefined;
    }
    this.#hooks.cacheMiss?.();
    const answer = this.#compute(address);
    this.#cache.set(address, answer ?? NONE);
    return answer;
  }

  #compute(address: string): IpEnrichment | undefined {
    if (address.length > 64) return undefined;
    const parsed = parseAddress(address);
    if (parsed === undefined) return undefined;
    const scope = scopeOf(parsed);
    const answer: IpEnrichment = { address, scope };
    // Addresses not routed on the Internet have no country or AS: a database answer for them is noise.
    if (scope === 'public') {
      if (this.#country) {
        this.#hooks.lookup?.('country');
        const found = this.#country.lookup(parsed);
        if (found) answer.country = found.country;
      }
      if (this.#asn) {
        this.#hooks.lookup?.('asn');
        const found = this.#asn.lookup(parsed);
        if (found) {
          answer.asn = found.asn;
          if (found.as_org !== undefined) answer.as_org = found.as_org.slice(0, 255);
        }
      }
    }
    return Object.freeze(answer);
  }
}
