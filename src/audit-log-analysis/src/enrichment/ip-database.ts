import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Reader } from 'mmdb-lib';
import { AsnCsvError, AsnCsvTable } from './asn-csv-table.ts';
import type { ParsedAddress } from './ip-scope.ts';

/** A database file that cannot be used; the loader names the variable that points at it. */
export class IpDatabaseError extends Error {}

export interface CountryAnswer {
  country: string;
}

export interface AsnAnswer {
  asn: number;
  as_org?: string;
}

/** One offline IP database, opened once at start and read-only afterwards. */
export interface IpDatabase<T> {
  /** `mmdb` or `csv`, for the start-up log and the info metric. */
  readonly format: 'mmdb' | 'csv';
  readonly file: string;
  /** When the data was built, when the file says so. */
  readonly buildDate: Date | undefined;
  /** Ranges (CSV) or search-tree nodes (MMDB), for the start-up log. */
  readonly size: number;
  lookup(address: ParsedAddress): T | undefined;
}

type Record_ = Record<string, unknown>;

/**
 * Opens a MaxMind DB file (read with mmdb-lib, the reader of the `maxmind` package) whole
 * into memory. The file is checked now, with one probe lookup, so a truncated or foreign
 * file fails the start instead of the first event.
 */
export function openMmdb<T>(file: string, read: (record: Record_) => T | undefined): IpDatabase<T> {
  let reader: Reader<Record_>;
  try {
    reader = new Reader<Record_>(readFileSync(file));
    reader.get('1.1.1.1');
  } catch (error) {
    throw new IpDatabaseError(`${file} is not a readable MaxMind DB file: ${(error as Error).message}`);
  }
  return {
    format: 'mmdb',
    file,
    buildDate: reader.metadata.buildEpoch,
    size: reader.metadata.nodeCount,
    lookup(address) {
      const record = reader.get(address.address);
      return record === null ? undefined : read(record);
    },
  };
}

/** The country of a record in the ip-location-db layout (`country_code`) or the GeoIP2/GeoLite2 one (`country.iso_code`). */
export function countryOf(record: Record_): CountryAnswer | undefined {
  const nested = (record['country'] ?? record['registered_country']) as Record_ | undefined;
  const code = record['country_code'] ?? nested?.['iso_code'];
  return typeof code === 'string' && code !== '' ? { country: code } : undefined;
}

/** The AS of a record in the GeoLite2-ASN layout, which ip-location-db's asn MMDB shares. */
export function asnOf(record: Record_): AsnAnswer | undefined {
  const asn = record['autonomous_system_number'];
  if (typeof asn !== 'number') return undefined;
  const org = record['autonomous_system_organization'];
  return typeof org === 'string' && org !== '' ? { asn, as_org: org } : { asn };
}

/**
 * Opens an ASN database: a `.mmdb` file, or the CSV ranges of the `@ip-location-db/asn`
 * package (`ip_range_start,ip_range_end,autonomous_system_number,autonomous_system_organization`),
 * given as one `.csv` file or as the package folder (its `asn-ipv4.csv` and `asn-ipv6.csv`).
 */
export function openAsnDatabase(path: string): IpDatabase<AsnAnswer> {
  if (path.endsWith('.mmdb')) return openMmdb(path, asnOf);
  let files: string[];
  try {
    files = statSync(path).isDirectory() ? [join(path, 'asn-ipv4.csv'), join(path, 'asn-ipv6.csv')] : [path];
  } catch (error) {
    throw new IpDatabaseError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const loaded: { name: string; data: Buffer }[] = [];
  for (const file of files) {
    try {
      loaded.push({ name: file, data: readFileSync(file) });
    } catch (error) {
      throw new IpDatabaseError(`cannot read ${file}: ${(error as Error).message}`);
    }
  }
  let table: AsnCsvTable;
  try {
    table = AsnCsvTable.load(loaded);
  } catch (error) {
    if (error instanceof AsnCsvError) throw new IpDatabaseError(error.message);
    throw error;
  }
  if (table.size === 0) throw new IpDatabaseError(`${path} holds no address ranges`);
  return {
    format: 'csv',
    file: path,
    buildDate: packageBuildDate(statSync(path).isDirectory() ? path : dirname(path)),
    size: table.size,
    lookup: (address) => table.lookup(address.address, address.family),
  };
}

/**
 * The build date of an ip-location-db package: its version ends in the build
 * date and hour (2.3.2026061719 is 2026-06-17 19:00 UTC). Undefined for any other folder.
 */
function packageBuildDate(folder: string): Date | undefined {
  try {
    const version = (JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { version?: unknown }).version;
    const match = typeof version === 'string' ? /\.(\d{4})(\d{2})(\d{2})(\d{2})?$/.exec(version) : null;
    if (!match) return undefined;
    const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), Number(match[4] ?? 0)));
    return Number.isNaN(date.getTime()) ? undefined : date;
  } catch {
    return undefined;
  }
}
