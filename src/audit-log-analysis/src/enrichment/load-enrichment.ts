import { ConfigError } from '@auditflow/common';
import { locatedProblems } from '@auditflow/common/platform';
import type { EnrichmentConfig } from './enrichment-config.ts';
import { Enricher } from './enricher.ts';
import { HostsFileError, loadHostsFileSync, type HostDirectory } from './hosts-file.ts';
import { type AsnAnswer, asnOf, type CountryAnswer, countryOf, type IpDatabase, IpDatabaseError, openAsnDatabase, openMmdb } from './ip-database.ts';

/**
 * Databases already opened in this process, by variable and path. The files are read-only
 * data, so a second instance in one process (the tests, a restart inside the all-in-one
 * mode) shares them instead of paying the parse time and the memory again.
 */
const opened = new Map<string, IpDatabase<unknown>>();

export interface LoadedEnrichment {
  enricher: Enricher;
  country: IpDatabase<CountryAnswer> | undefined;
  asn: IpDatabase<AsnAnswer> | undefined;
  hosts: HostDirectory | undefined;
}

/**
 * Opens the databases and the hosts file once, at start. Anything that cannot be
 * used is bad configuration: one ConfigError (exit 78) names each variable and,
 * for the hosts file, every file:line:col problem. Undefined when the enrichment is off.
 */
export function loadEnrichment(config: EnrichmentConfig): LoadedEnrichment | undefined {
  if (!config.enabled) return undefined;
  const problems: { variable: string; problem: string }[] = [];
  const open = <T>(variable: string, path: string | undefined, opener: (path: string) => IpDatabase<T>): IpDatabase<T> | undefined => {
    if (path === undefined) return undefined;
    const key = `${variable}\u0000${path}`;
    const known = opened.get(key) as IpDatabase<T> | undefined;
    if (known !== undefined) return known;
    try {
      const database = opener(path);
      opened.set(key, database);
      return database;
    } catch (error) {
      if (!(error instanceof IpDatabaseError)) throw error;
      problems.push({ variable, problem: error.message });
      return undefined;
    }
  };
  const country = open('ENRICHMENT_COUNTRY_DATABASE', config.countryDatabase, (path) => openMmdb(path, countryOf));
  const asn = open('ENRICHMENT_ASN_DATABASE', config.asnDatabase, (path) => (path.endsWith('.mmdb') ? openMmdb(path, asnOf) : openAsnDatabase(path)));
  let hosts: HostDirectory | undefined;
  if (config.hostsFile !== undefined) {
    try {
      hosts = loadHostsFileSync(config.hostsFile);
    } catch (error) {
      if (!(error instanceof HostsFileError)) throw error;
      for (const problem of locatedProblems(error.fileName, error.problems)) problems.push({ variable: 'HOSTS_FILE', problem });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { enricher: new Enricher({ country, asn, hosts, cacheSize: config.cacheSize }), country, asn, hosts };
}
