import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Reader } from 'mmdb-lib';
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
  const table = new AsnRangeTable();
  for (const file of files) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch (error) {
      throw new IpDatabaseError(`cannot read ${file}: ${(error as Error).message}`);
    }
    table.load(data, file);
  }
  table.finish(path);
  return {
    format: 'csv',
    file: path,
    buildDate: packageBuildDate(statSync(path).isDirectory() ? path : dirname(path)),
    size: table.size,
    lookup: (address) => table.lookup(address),
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

/** One address family's sorted, non-overlapping ranges while the file is read. */
interface Family<N> {
  starts: N[];
  ends: N[];
  asns: number[];
  orgs: number[];
}

/**
 * The CSV ranges in memory as parallel typed arrays (16 bytes a range for
 * IPv4, 24 for IPv6), searched by bisection. IPv4 bounds are 32-bit numbers; IPv6 bounds keep only their upper 64 bits (no AS announces a prefix
 * longer than /64, so ranges start and end on /64 boundaries; a range that does
 * not is refused as a format change rather than answered wrongly).
 */
class AsnRangeTable {
  #v4: Family<number> = { starts: [], ends: [], asns: [], orgs: [] };
  #v6: Family<bigint> = { starts: [], ends: [], asns: [], orgs: [] };
  #orgIndex = new Map<string, number>();
  #orgs: string[] = [];
  #v4Starts = new Uint32Array(0);
  #v4Ends = new Uint32Array(0);
  #v4Asns = new Uint32Array(0);
  #v4Orgs = new Uint32Array(0);
  /** IPv6 bounds as 128-bit values split in two 64-bit halves: [high, low, high, low, ...]. */
  #v6Starts = new BigUint64Array(0);
  #v6Ends = new BigUint64Array(0);
  #v6Asns = new Uint32Array(0);
  #v6Orgs = new Uint32Array(0);
  size = 0;

  load(data: Buffer, file: string): void {
    let lineNumber = 0;
    let position = 0;
    while (position < data.length) {
      let end = data.indexOf(10, position);
      if (end < 0) end = data.length;
      lineNumber++;
      const line = data.toString('utf8', position, end > position && data[end - 1] === 13 ? end - 1 : end);
      position = end + 1;
      if (line === '') continue;
      this.#addLine(line, file, lineNumber);
    }
  }

  #addLine(line: string, file: string, lineNumber: number): void {
    const at = { toString: () => `${file}:${lineNumber}` };
    const first = line.indexOf(',');
    const second = line.indexOf(',', first + 1);
    const third = line.indexOf(',', second + 1);
    if (first < 0 || second < 0 || third < 0) throw new IpDatabaseError(`${at}: expected start,end,asn,organisation`);
    const start = line.slice(0, first);
    const end = line.slice(first + 1, second);
    const asn = Number(line.slice(second + 1, third));
    let org = line.slice(third + 1);
    if (org.startsWith('"') && org.endsWith('"') && org.length >= 2) org = org.slice(1, -1).replaceAll('""', '"');
    if (!Number.isInteger(asn) || asn < 0 || asn > 4_294_967_295) throw new IpDatabaseError(`${at}: '${line.slice(second + 1, third)}' is not an AS number`);
    let orgId = this.#orgIndex.get(org);
    if (orgId === undefined) {
      orgId = this.#orgs.length;
      this.#orgs.push(org);
      this.#orgIndex.set(org, orgId);
    }
    const v4Start = ipv4Number(start);
    if (v4Start !== undefined) {
      const v4End = ipv4Number(end);
      if (v4End === undefined || v4End < v4Start) throw new IpDatabaseError(`${at}: '${end}' is not an IPv4 range end after '${start}'`);
      pushV4(this.#v4, v4Start, v4End, asn, orgId, at);
      return;
    }
    const v6Start = ipv6Value(start);
    const v6End = ipv6Value(end);
    if (v6Start === undefined || v6End === undefined || v6End < v6Start) throw new IpDatabaseError(`${at}: '${start}','${end}' is not an address range`);
    pushV6(this.#v6, v6Start, v6End, asn, orgId, at);
  }

  /** Packs the ranges into typed arrays; the parse-time lists are dropped. */
  finish(path: string): void {
    this.#v4Starts = Uint32Array.from(this.#v4.starts);
    this.#v4Ends = Uint32Array.from(this.#v4.ends);
    this.#v4Asns = Uint32Array.from(this.#v4.asns);
    this.#v4Orgs = Uint32Array.from(this.#v4.orgs);
    this.#v6Starts = splitHalves(this.#v6.starts);
    this.#v6Ends = splitHalves(this.#v6.ends);
    this.#v6Asns = Uint32Array.from(this.#v6.asns);
    this.#v6Orgs = Uint32Array.from(this.#v6.orgs);
    this.size = this.#v4Starts.length + this.#v6Asns.length;
    this.#v4 = { starts: [], ends: [], asns: [], orgs: [] };
    this.#v6 = { starts: [], ends: [], asns: [], orgs: [] };
    this.#orgIndex = new Map();
    if (this.size === 0) throw new IpDatabaseError(`${path} holds no address ranges`);
  }

  lookup(address: ParsedAddress): AsnAnswer | undefined {
    const index = address.family === 4 ? bisectV4(this.#v4Starts, this.#v4Ends, ipv4Number(address.address)) : bisectV6(this.#v6Starts, this.#v6Ends, ipv6Value(address.address));
    if (index === undefined) return undefined;
    const asn = (address.family === 4 ? this.#v4Asns : this.#v6Asns)[index]!;
    const org = this.#orgs[(address.family === 4 ? this.#v4Orgs : this.#v6Orgs)[index]!];
    // AS 0 marks announced-by-nobody space in some sources: no AS to report.
    if (asn === 0) return undefined;
    return org ? { asn, as_org: org } : { asn };
  }
}

/**
 * Adds a range after the previous one. The published data has a few overlapping ranges
 * (its README warns of data bugs): the earlier range keeps the overlap and the later one
 * starts after it, so every address still has one answer. Unsorted data is refused.
 * One copy per family keeps each monomorphic: it runs for every range of the file.
 */
function pushV4(family: Family<number>, start: number, end: number, asn: number, org: number, at: object): void {
  const count = family.starts.length;
  if (count > 0) {
    const lastEnd = family.ends[count - 1]!;
    if (start < family.starts[count - 1]!) throw new IpDatabaseError(`${at}: ranges must be sorted by their start`);
    if (start <= lastEnd) {
      if (end <= lastEnd) return;
      start = lastEnd + 1;
    }
  }
  family.starts.push(start);
  family.ends.push(end);
  family.asns.push(asn);
  family.orgs.push(org);
}

function pushV6(family: Family<bigint>, start: bigint, end: bigint, asn: number, org: number, at: object): void {
  const count = family.starts.length;
  if (count > 0) {
    const lastEnd = family.ends[count - 1]!;
    if (start < family.starts[count - 1]!) throw new IpDatabaseError(`${at}: ranges must be sorted by their start`);
    if (start <= lastEnd) {
      if (end <= lastEnd) return;
      start = lastEnd + 1n;
    }
  }
  family.starts.push(start);
  family.ends.push(end);
  family.asns.push(asn);
  family.orgs.push(org);
}

function bisectV4(starts: Uint32Array, ends: Uint32Array, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  let low = 0;
  let high = starts.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (starts[middle]! > value) high = middle - 1;
    else if (ends[middle]! < value) low = middle + 1;
    else return middle;
  }
  return undefined;
}

const LOW_MASK = (1n << 64n) - 1n;

function splitHalves(values: readonly bigint[]): BigUint64Array<ArrayBuffer> {
  const halves = new BigUint64Array(values.length * 2);
  values.forEach((value, index) => {
    halves[2 * index] = value >> 64n;
    halves[2 * index + 1] = value & LOW_MASK;
  });
  return halves;
}

/** Compares the 128-bit value at `index` of split halves with (high, low). */
function compareAt(halves: BigUint64Array, index: number, high: bigint, low: bigint): number {
  const h = halves[2 * index]!;
  if (h !== high) return h < high ? -1 : 1;
  const l = halves[2 * index + 1]!;
  return l === low ? 0 : l < low ? -1 : 1;
}

function bisectV6(starts: BigUint64Array, ends: BigUint64Array, value: bigint | undefined): number | undefined {
  if (value === undefined) return undefined;
  const high = value >> 64n;
  const low = value & LOW_MASK;
  let from = 0;
  let to = starts.length / 2 - 1;
  while (from <= to) {
    const middle = (from + to) >>> 1;
    if (compareAt(starts, middle, high, low) > 0) to = middle - 1;
    else if (compareAt(ends, middle, high, low) < 0) from = middle + 1;
    else return middle;
  }
  return undefined;
}

/** A dotted IPv4 address as a 32-bit number (parsed by hand: it runs for every range of the file). */
function ipv4Number(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      octet = octet * 10 + (code - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else if (code === 46 && digits > 0 && dots < 3) {
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else return undefined;
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : undefined;
}

/** An IPv6 address as a 128-bit number. */
function ipv6Value(text: string): bigint | undefined {
  const groups = expandIpv6(text);
  if (groups === undefined) return undefined;
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(group);
  return value;
}

function expandIpv6(text: string): number[] | undefined {
  if (!text.includes(':')) return undefined;
  const [head, tail, extra] = text.split('::');
  if (extra !== undefined) return undefined;
  const parse = (part: string | undefined): number[] | undefined => {
    if (part === undefined || part === '') return [];
    const groups: number[] = [];
    for (const group of part.split(':')) {
      if (group.includes('.')) {
        const v4 = ipv4Number(group);
        if (v4 === undefined) return undefined;
        groups.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(group)) groups.push(Number.parseInt(group, 16));
      else return undefined;
    }
    return groups;
  };
  const left = parse(head);
  const right = parse(tail);
  if (left === undefined || right === undefined) return undefined;
  if (tail === undefined) return left.length === 8 ? left : undefined;
  const missing = 8 - left.length - right.length;
  if (missing < 1) return undefined;
  return [...left, ...new Array<number>(missing).fill(0), ...right];
}
