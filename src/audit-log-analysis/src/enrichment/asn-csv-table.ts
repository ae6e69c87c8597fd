/**
 * The ASN ranges of `@ip-location-db/asn` (CSV: `ip_range_start,ip_range_end,autonomous_system_number,autonomous_system_organization`,
 * inclusive ranges sorted by start) in memory as typed arrays, searched by bisection.
 *
 * The CSV is parsed byte by byte into arrays sized by a first counting pass: no string per
 * line, no growing arrays, no BigInt. Parsing half a million lines with strings and plain arrays
 * left about 130 MiB of freed heap in the process (RSS), more than half of the analysis pod's
 * limit; this way the table costs what it holds (docs/enrichment.md, "Cost").
 */

/** A malformed file, with the line to look at. */
export class AsnCsvError extends Error {}

export interface AsnRange {
  asn: number;
  as_org?: string;
}

const COMMA = 44;
const NEWLINE = 10;
const CR = 13;
const QUOTE = 34;
const COLON = 58;
const DOT = 46;

/** One address family: `words` 32-bit words per bound (1 for IPv4, 4 for IPv6). */
class RangeFamily {
  readonly words: number;
  readonly starts: Uint32Array;
  readonly ends: Uint32Array;
  readonly asns: Uint32Array;
  readonly orgs: Uint32Array;
  count = 0;

  constructor(words: number, capacity: number) {
    this.words = words;
    this.starts = new Uint32Array(capacity * words);
    this.ends = new Uint32Array(capacity * words);
    this.asns = new Uint32Array(capacity);
    this.orgs = new Uint32Array(capacity);
  }

  /**
   * Appends a range after the previous one. The published data has a few overlapping ranges
   * (its README warns of data bugs): the earlier range keeps the overlap and the later one
   * starts after it, so every address has one answer. Data out of order is refused.
   */
  push(start: Uint32Array, end: Uint32Array, asn: number, org: number, at: () => string): void {
    const w = this.words;
    if (compare(end, 0, start, 0, w) < 0) throw new AsnCsvError(`${at()}: the range ends before it starts`);
    if (this.count > 0) {
      const last = this.count - 1;
      if (compare(start, 0, this.starts, last * w, w) < 0) throw new AsnCsvError(`${at()}: ranges must be sorted by their start`);
      if (compare(start, 0, this.ends, last * w, w) <= 0) {
        if (compare(end, 0, this.ends, last * w, w) <= 0) return;
        start.set(this.ends.subarray(last * w, last * w + w));
        increment(start, w);
      }
    }
    this.starts.set(start.subarray(0, w), this.count * w);
    this.ends.set(end.subarray(0, w), this.count * w);
    this.asns[this.count] = asn;
    this.orgs[this.count] = org;
    this.count++;
  }

  find(address: Uint32Array): number | undefined {
    const w = this.words;
    let low = 0;
    let high = this.count - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (compare(this.starts, middle * w, address, 0, w) > 0) high = middle - 1;
      else if (compare(this.ends, middle * w, address, 0, w) < 0) low = middle + 1;
      else return middle;
    }
    return undefined;
  }
}

function compare(a: Uint32Array, aAt: number, b: Uint32Array, bAt: number, words: number): number {
  for (let i = 0; i < words; i++) {
    const x = a[aAt + i]!;
    const y = b[bAt + i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function increment(words: Uint32Array, count: number): void {
  for (let i = count - 1; i >= 0; i--) {
    words[i] = (words[i]! + 1) >>> 0;
    if (words[i] !== 0) return;
  }
}

export class AsnCsvTable {
  #v4 = new RangeFamily(1, 0);
  #v6 = new RangeFamily(4, 0);
  #orgs: string[] = [];
  readonly #scratch = new Uint32Array(4);

  get size(): number {
    return this.#v4.count + this.#v6.count;
  }

  /** Reads the CSV files (an IPv4 and an IPv6 one, or one with both). */
  static load(files: readonly { name: string; data: Buffer }[]): AsnCsvTable {
    const table = new AsnCsvTable();
    let v4 = 0;
    let v6 = 0;
    for (const { data } of files) {
      forEachLine(data, (from) => {
        if (isV6Field(data, from)) v6++;
        else v4++;
      });
    }
    table.#v4 = new RangeFamily(1, v4);
    table.#v6 = new RangeFamily(4, v6);
    const orgIds = new Map<string, number>();
    const start = new Uint32Array(4);
    const end = new Uint32Array(4);
    for (const { name, data } of files) {
      let line = 0;
      forEachLine(data, (from, to) => {
        line++;
        const at = () => `${name}:${line}`;
        const first = data.indexOf(COMMA, from);
        const second = first < 0 || first >= to ? -1 : data.indexOf(COMMA, first + 1);
        const third = second < 0 || second >= to ? -1 : data.indexOf(COMMA, second + 1);
        if (third < 0 || third >= to) throw new AsnCsvError(`${at()}: expected start,end,asn,organisation`);
        const v6Line = isV6Field(data, from);
        const family = v6Line ? table.#v6 : table.#v4;
        if (!(v6Line ? parseV6(data, from, first, start) : parseV4(data, from, first, start)) || !(v6Line ? parseV6(data, first + 1, second, end) : parseV4(data, first + 1, second, end))) {
          throw new AsnCsvError(`${at()}: '${data.toString('utf8', from, second)}' is not an address range`);
        }
        const asn = parseNumber(data, second + 1, third);
        if (asn === undefined) throw new AsnCsvError(`${at()}: '${data.toString('utf8', second + 1, third)}' is not an AS number`);
        let org = data[third + 1] === QUOTE && data[to - 1] === QUOTE && to - third >= 3 ? data.toString('utf8', third + 2, to - 1) : data.toString('utf8', third + 1, to);
        if (data[third + 1] === QUOTE) org = org.replaceAll('""', '"');
        let orgId = orgIds.get(org);
        if (orgId === undefined) {
          orgId = table.#orgs.length;
          table.#orgs.push(org);
          orgIds.set(org, orgId);
        }
        family.push(start, end, asn, orgId, at);
      });
    }
    return table;
  }

  /** The AS of a canonical IPv4 or IPv6 address. */
  lookup(address: string, family: 4 | 6): AsnRange | undefined {
    const words = this.#scratch;
    const bytes = Buffer.from(address, 'latin1');
    const parsed = family === 4 ? parseV4(bytes, 0, bytes.length, words) : parseV6(bytes, 0, bytes.length, words);
    if (!parsed) return undefined;
    const table = family === 4 ? this.#v4 : this.#v6;
    const index = table.find(words);
    if (index === undefined) return undefined;
    const asn = table.asns[index]!;
    // AS 0 marks space no AS announces in some sources: nothing to report.
    if (asn === 0) return undefined;
    const org = this.#orgs[table.orgs[index]!];
    return org ? { asn, as_org: org } : { asn };
  }
}

/** Calls `line(from, to)` for every non-empty line, without its line break. */
function forEachLine(data: Buffer, line: (from: number, to: number) => void): void {
  let position = 0;
  while (position < data.length) {
    let end = data.indexOf(NEWLINE, position);
    if (end < 0) end = data.length;
    const to = end > position && data[end - 1] === CR ? end - 1 : end;
    if (to > position) line(position, to);
    position = end + 1;
  }
}

function isV6Field(data: Buffer, from: number): boolean {
  for (let i = from; i < data.length; i++) {
    const byte = data[i];
    if (byte === COMMA || byte === NEWLINE) return false;
    if (byte === COLON) return true;
  }
  return false;
}

function parseNumber(data: Buffer, from: number, to: number): number | undefined {
  if (to <= from || to - from > 10) return undefined;
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = data[i]! - 48;
    if (digit < 0 || digit > 9) return undefined;
    value = value * 10 + digit;
  }
  return value <= 4_294_967_295 ? value : undefined;
}

/** A dotted IPv4 address into out[0]. */
function parseV4(data: Uint8Array, from: number, to: number, out: Uint32Array, at = 0): boolean {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const byte = data[i]!;
    if (byte >= 48 && byte <= 57) {
      octet = octet * 10 + (byte - 48);
      if (++digits > 3 || octet > 255) return false;
    } else if (byte === DOT && digits > 0 && dots < 3) {
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else return false;
  }
  if (dots !== 3 || digits === 0) return false;
  out[at] = value * 256 + octet;
  return true;
}

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  if (byte >= 97 && byte <= 102) return byte - 87;
  if (byte >= 65 && byte <= 70) return byte - 55;
  return -1;
}

const groups = new Uint16Array(8);

/** An IPv6 address (with `::` and a trailing dotted IPv4 allowed) into out[0..3]. */
function parseV6(data: Uint8Array, from: number, to: number, out: Uint32Array): boolean {
  groups.fill(0);
  let count = 0;
  let gap = -1;
  let i = from;
  if (data[i] === COLON) {
    if (data[i + 1] !== COLON) return false;
    gap = 0;
    i += 2;
  }
  while (i < to) {
    // A dotted IPv4 tail fills the last two groups.
    let j = i;
    while (j < to && data[j] !== COLON && data[j] !== DOT) j++;
    if (j < to && data[j] === DOT) {
      const tail = new Uint32Array(1);
      if (count > 6 || !parseV4(data, i, to, tail)) return false;
      groups[count++] = tail[0]! >>> 16;
      groups[count++] = tail[0]! & 0xffff;
      i = to;
      break;
    }
    let value = 0;
    let digits = 0;
    while (i < to && data[i] !== COLON) {
      const digit = hexValue(data[i]!);
      if (digit < 0 || ++digits > 4) return false;
      value = value * 16 + digit;
      i++;
    }
    if (digits === 0 || count >= 8) return false;
    groups[count++] = value;
    if (i < to) {
      i++;
      if (data[i] === COLON) {
        if (gap >= 0) return false;
        gap = count;
        i++;
      } else if (i >= to) return false;
    }
  }
  if (gap >= 0) {
    if (count >= 8) return false;
    const tail = count - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[count - 1 - k]!;
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  } else if (count !== 8) return false;
  for (let w = 0; w < 4; w++) out[w] = ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0;
  return true;
}
