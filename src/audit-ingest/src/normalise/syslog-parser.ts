/** One syslog message, from either header format. */
export interface SyslogMessage {
  format: 'rfc5424' | 'rfc3164';
  facility: number;
  /** Syslog severity 0 (emergency) to 7 (debug). */
  severity: number;
  /** Epoch milliseconds; undefined when the sender gave no usable time (RFC 5424 NILVALUE). */
  timestamp: number | undefined;
  hostname: string | undefined;
  /** APP-NAME (RFC 5424) or the TAG before the `[pid]:` (RFC 3164). */
  appName: string | undefined;
  procId: string | undefined;
  msgId: string | undefined;
  structuredData: string | undefined;
  message: string;
}

/** Why a syslog frame could not be read: the `reason` label of the dead-letter counter. */
export class SyslogParseError extends Error {
  readonly reason = 'syslog_unparseable';
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const RFC3164_TIME = /^([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d)(?:\.\d+)? /;
const ISO_TIME = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) /;

export interface SyslogParseOptions {
  /** Receive time in epoch ms: the year of RFC 3164 timestamps, which carry none, comes from it. */
  now: number;
  /** Offset finder for the zone RFC 3164 timestamps are in. */
  zone: ZoneOffset;
}

/**
 * Parses one syslog message (the frame without its transport framing):
 * RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) or the BSD format
 * of RFC 3164 (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`), including the ISO
 * timestamp variant rsyslog's forward format writes. Throws SyslogParseError.
 */
export function parseSyslog(frame: string, options: SyslogParseOptions): SyslogMessage {
  const priEnd = frame.indexOf('>');
  if (frame.charCodeAt(0) !== 60 /* < */ || priEnd < 2 || priEnd > 4) throw new SyslogParseError('missing <PRI> header');
  const pri = Number(frame.slice(1, priEnd));
  if (!Number.isInteger(pri) || pri < 0 || pri > 191) throw new SyslogParseError(`invalid PRI "${frame.slice(1, priEnd)}"`);
  const rest = frame.slice(priEnd + 1);
  const facility = pri >> 3;
  const severity = pri & 7;
  if (rest.startsWith('1 ')) return parse5424(rest.slice(2), facility, severity);
  return parse3164(rest, facility, severity, options);
}

function parse5424(text: string, facility: number, severity: number): SyslogMessage {
  const fields: string[] = [];
  let position = 0;
  for (let i = 0; i < 5; i++) {
    const space = text.indexOf(' ', position);
    if (space < 0) throw new SyslogParseError('RFC 5424 header is incomplete');
    fields.push(text.slice(position, space));
    position = space + 1;
  }
  const [time, host, app, proc, msgId] = fields as [string, string, string, string, string];
  let timestamp: number | undefined;
  if (time !== '-') {
    timestamp = Date.parse(time);
    if (Number.isNaN(timestamp) || !/^\d{4}-\d\d-\d\dT/.test(time)) throw new SyslogParseError(`invalid RFC 5424 timestamp "${time}"`);
  }
  const { structuredData, end } = readStructuredData(text, position);
  let message = text.slice(end).replace(/^ /, '');
  if (message.charCodeAt(0) === 0xfeff) message = message.slice(1);
  return {
    format: 'rfc5424',
    facility,
    severity,
    timestamp,
    hostname: nil(host),
    appName: nil(app),
    procId: nil(proc),
    msgId: nil(msgId),
    structuredData,
    message: trimEnd(message),
  };
}

/** STRUCTURED-DATA is `-` or `[id k="v" ...]...`, where `\"`, `\\` and `\]` are escapes inside values. */
function readStructuredData(text: string, start: number): { structuredData: string | undefined; end: number } {
  if (text[start] === '-') return { structuredData: undefined, end: start + 1 };
  if (text[start] !== '[') throw new SyslogParseError('RFC 5424 STRUCTURED-DATA must be "-" or start with "["');
  let i = start;
  while (text[i] === '[') {
    let inValue = false;
    i++;
    for (; i < text.length; i++) {
      const c = text[i];
      if (inValue) {
        if (c === '\\') i++;
        else if (c === '"') inValue = false;
      } else if (c === '"') inValue = true;
      else if (c === ']') break;
    }
    if (i >= text.length) throw new SyslogParseError('unterminated STRUCTURED-DATA element');
    i++;
  }
  return { structuredData: text.slice(start, i), end: i };
}

function parse3164(text: string, facility: number, severity: number, options: SyslogParseOptions): SyslogMessage {
  let timestamp: number | undefined;
  let rest: string;
  const bsd = RFC3164_TIME.exec(text);
  if (bsd) {
    timestamp = bsdTimestamp(bsd, options);
    rest = text.slice(bsd[0].length);
  } else {
    const iso = ISO_TIME.exec(text);
    if (!iso) throw new SyslogParseError('no RFC 5424 version and no RFC 3164 timestamp after <PRI>');
    timestamp = Date.parse(iso[1]!);
    rest = text.slice(iso[0].length);
  }
  // HOSTNAME is the next word unless that word already is the TAG (a local sender omits it).
  let hostname: string | undefined;
  const firstSpace = rest.indexOf(' ');
  const firstWord = firstSpace < 0 ? rest : rest.slice(0, firstSpace);
  if (firstSpace > 0 && !firstWord.endsWith(':') && !firstWord.includes('[')) {
    hostname = firstWord;
    rest = rest.slice(firstSpace + 1);
  }
  const tag = /^([^\s:[\]]{1,128})(?:\[([^\]\s]{1,32})\])?: ?/.exec(rest);
  const message = tag ? rest.slice(tag[0].length) : rest;
  return {
    format: 'rfc3164',
    facility,
    severity,
    timestamp,
    hostname,
    appName: tag?.[1],
    procId: tag?.[2],
    msgId: undefined,
    structuredData: undefined,
    message: trimEnd(message),
  };
}

/** The year is the receive year, unless that puts the message more than a day in the future (sent on 31 Dec). */
function bsdTimestamp(match: RegExpExecArray, options: SyslogParseOptions): number {
  const month = MONTHS[match[1]!];
  if (month === undefined) throw new SyslogParseError(`invalid month "${match[1]}"`);
  const [day, hour, minute, second] = [match[2]!, match[3]!, match[4]!, match[5]!].map((v) => Number(v.trim())) as [number, number, number, number];
  const year = new Date(options.now).getUTCFullYear();
  let ms = options.zone.toUtc(year, month, day, hour, minute, second);
  if (ms - options.now > 86_400_000) ms = options.zone.toUtc(year - 1, month, day, hour, minute, second);
  return ms;
}

function nil(value: string): string | undefined {
  return value === '-' ? undefined : value;
}

function trimEnd(message: string): string {
  let end = message.length;
  while (end > 0 && (message.charCodeAt(end - 1) === 10 || message.charCodeAt(end - 1) === 13 || message.charCodeAt(end - 1) === 0)) end--;
  return end === message.length ? message : message.slice(0, end);
}

/** Converts a wall-clock time in one IANA zone to epoch ms (RFC 3164 timestamps have no offset). */
export class ZoneOffset {
  readonly #format: Intl.DateTimeFormat | undefined;

  constructor(timeZone: string) {
    this.#format =
      timeZone === 'UTC'
        ? undefined
        : new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  }

  toUtc(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
    const asUtc = Date.UTC(year, month, day, hour, minute, second);
    if (!this.#format) return asUtc;
    // The zone's offset at that instant, applied once; a wall time inside a DST gap shifts by the gap.
    const offset = this.#offsetAt(asUtc);
    return asUtc - this.#offsetAt(asUtc - offset);
  }

  #offsetAt(ms: number): number {
    const parts: Record<string, number> = {};
    for (const part of this.#format!.formatToParts(ms)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
    const local = Date.UTC(parts['year']!, parts['month']! - 1, parts['day']!, parts['hour']! % 24, parts['minute']!, parts['second']!);
    return local - Math.floor(ms / 1000) * 1000;
  }
}
