import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { EnvReader } from '@auditflow/common';
import { defineEnv, envAccessors } from '@auditflow/common/platform';

/** Offline enrichment (docs/enrichment.md; docs/configuration.md, "Enrichment", is generated from this). */
export const ENRICHMENT_ENV = defineEnv({
  ENRICHMENT_ENABLED: { type: 'bool', default: true, description: '`false` turns the enrichment off: events get no `enrichment` (one a producer sent is still dropped) and no database is opened' },
  ENRICHMENT_COUNTRY_DATABASE: {
    type: 'string',
    shown: 'packaged',
    description:
      'country MaxMind DB (`.mmdb`, ip-location-db or GeoLite2 layout); unset: `geo-whois-asn-country.mmdb` of the packaged `@ip-location-db/geo-whois-asn-country-mmdb` (CC0); `off`: no country',
  },
  ENRICHMENT_ASN_DATABASE: {
    type: 'string',
    shown: 'packaged',
    description:
      'ASN database: a `.mmdb` (GeoLite2-ASN layout) or the CSV ranges of `@ip-location-db/asn` (a `.csv` file or the package folder); unset: the packaged `@ip-location-db/asn` (CC BY 4.0); `off`: no ASN',
  },
  ENRICHMENT_CACHE_SIZE: { type: 'int', default: 10_000, min: 0, max: 1_000_000, description: 'source addresses whose answer is kept (LRU); `0` looks every event up' },
  HOSTS_FILE: { type: 'string', description: 'YAML owner/role map of the hosts (`hosts: {name: {owner, role, groups, addresses}}`), generated from the Ansible inventory; unset: no host enrichment' },
});

export interface EnrichmentConfig {
  enabled: boolean;
  /** Undefined: no country database. */
  countryDatabase: string | undefined;
  /** Undefined: no ASN database. */
  asnDatabase: string | undefined;
  cacheSize: number;
  hostsFile: string | undefined;
}

const require = createRequire(import.meta.url);

/** Where npm put a packaged database: resolved through the package, so hoisting and the image layout do not matter. */
export function packagedDatabase(packageName: string, file = ''): string {
  const folder = dirname(require.resolve(`${packageName}/package.json`));
  return file === '' ? folder : join(folder, file);
}

export const PACKAGED_COUNTRY_DATABASE = ['@ip-location-db/geo-whois-asn-country-mmdb', 'geo-whois-asn-country.mmdb'] as const;
export const PACKAGED_ASN_DATABASE = ['@ip-location-db/asn', ''] as const;

export function readEnrichmentConfig(reader: EnvReader): EnrichmentConfig {
  const read = envAccessors(ENRICHMENT_ENV, reader);
  const choose = (value: string | undefined, packaged: readonly [string, string]): string | undefined => {
    if (value === 'off') return undefined;
    if (value !== undefined && value !== '') return value;
    return packagedDatabase(packaged[0], packaged[1]);
  };
  const enabled = read.ENRICHMENT_ENABLED();
  return {
    enabled,
    countryDatabase: enabled ? choose(read.ENRICHMENT_COUNTRY_DATABASE(), PACKAGED_COUNTRY_DATABASE) : undefined,
    asnDatabase: enabled ? choose(read.ENRICHMENT_ASN_DATABASE(), PACKAGED_ASN_DATABASE) : undefined,
    cacheSize: read.ENRICHMENT_CACHE_SIZE(),
    hostsFile: enabled ? read.HOSTS_FILE() : undefined,
  };
}
