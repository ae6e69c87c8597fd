import {
  ALERT_STATUSES,
  type AlertFilters,
  type AlertListQuery,
  type AlertStatsQuery,
  type AlertStatus,
  type StatsBucket,
} from '../store/alert-store.ts';
import { BUCKET_MS } from '../store/stats-sql.ts';
import { BadRequestError } from './api-errors.ts';
import { decodeCursor } from './cursor.ts';

export type RawQuery = Record<string, string | string[] | undefined>;

export const MAX_LIMIT = 500;
export const DEFAULT_LIMIT = 50;
export const MAX_OFFSET = 100_000;
export const MAX_TIMELINE_BUCKETS = 5000;
export const TOP_RULES = 50;
const DAY_MS = 86_400_000;

/**
 * Query parameters of GET /alerts and GET /alerts/stats. Every value is
 * checked here, so the database only ever sees well-formed input; unknown
 * parameters are ignored (as the original did), repeated ones are refused.
 * limit/offset keep the original's error messages.
 */
export function parseListQuery(query: RawQuery): AlertListQuery {
  const cursor = single(query, 'cursor');
  return {
    ...parseFilters(query),
    limit: parseCount(query, 'limit', 'Limit', DEFAULT_LIMIT, 1, MAX_LIMIT, 'AF_INVALID_LIMIT'),
    offset: parseCount(query, 'offset', 'Offset', 0, 0, MAX_OFFSET, 'AF_INVALID_OFFSET'),
    ...(cursor === undefined ? {} : { after: decodeCursor(cursor) }),
  };
}

export function parseStatsQuery(query: RawQuery, now: Date): AlertStatsQuery {
  const filters = parseFilters(query);
  const bucket = (single(query, 'bucket') ?? 'hour') as StatsBucket;
  if (!(bucket in BUCKET_MS)) throw invalid('bucket', 'must be minute, hour or day');
  const until = filters.until ?? now;
  const since = filters.since ?? new Date(until.getTime() - DAY_MS);
  if (since.getTime() >= until.getTime()) throw invalid('since', 'must be before until');
  if ((until.getTime() - since.getTime()) / BUCKET_MS[bucket] > MAX_TIMELINE_BUCKETS) {
    throw invalid('bucket', `the window holds more than ${MAX_TIMELINE_BUCKETS} ${bucket} buckets; use a larger bucket`);
  }
  return { ...filters, since, until, bucket, topRules: TOP_RULES };
}

function parseFilters(query: RawQuery): AlertFilters {
  const filters: AlertFilters = {};
  const severity = list(query, 'severity', 50, 10);
  if (severity) filters.severity = severity;
  const status = list(query, 'status', 16, 3);
  if (status) {
    for (const value of status) {
      if (!ALERT_STATUSES.includes(value as AlertStatus)) throw invalid('status', `'${value}' is not open, acknowledged or resolved`);
    }
    filters.status = status as AlertStatus[];
  }
  const ruleId = list(query, 'rule_id', 255, 20);
  if (ruleId) filters.ruleId = ruleId;
  const user = text(query, 'user', 255);
  if (user !== undefined) filters.actorId = user;
  const host = text(query, 'host', 255);
  if (host !== undefined) filters.host = host;
  const since = instant(query, 'since');
  if (since) filters.since = since;
  const until = instant(query, 'until');
  if (until) filters.until = until;
  if (since && until && since.getTime() >= until.getTime()) throw invalid('since', 'must be before until');
  const q = text(query, 'q', 200);
  if (q !== undefined) {
    const words = q
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter((word) => word !== '')
      .map((word) => word.slice(0, 64));
    if (words.length > 8) throw invalid('q', 'at most 8 words');
    if (words.length > 0) filters.text = words;
  }
  return filters;
}

function invalid(name: string, problem: string): BadRequestError {
  return new BadRequestError('AF_INVALID_PARAMETER', `${name} ${problem}`, [{ path: `/${name}`, message: problem }]);
}

/** One value or none; an empty value counts as none (the original ignored empty strings). */
function single(query: RawQuery, name: string): string | undefined {
  const value = query[name];
  if (Array.isArray(value)) throw invalid(name, 'must be given once');
  if (value === undefined || value.trim() === '') return undefined;
  if (value.includes('\u0000')) throw invalid(name, 'must not contain NUL characters');
  return value.trim();
}

function text(query: RawQuery, name: string, max: number): string | undefined {
  const value = single(query, name);
  if (value !== undefined && value.length > max) throw invalid(name, `must be at most ${max} characters`);
  return value;
}

function list(query: RawQuery, name: string, maxLength: number, maxItems: number): string[] | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  const items = [...new Set(value.split(',').map((item) => item.trim()).filter((item) => item !== ''))];
  if (items.length === 0) return undefined;
  if (items.length > maxItems) throw invalid(name, `takes at most ${maxItems} values`);
  if (items.some((item) => item.length > maxLength)) throw invalid(name, `values must be at most ${maxLength} characters`);
  return items;
}

function parseCount(
  query: RawQuery,
  name: string,
  label: string,
  fallback: number,
  min: number,
  max: number,
  code: string,
): number {
  const value = single(query, name);
  if (value === undefined) return fallback;
  if (!/^[+-]?\d+$/.test(value)) throw new BadRequestError(code, `${label} must be an integer.`);
  const parsed = Number(value);
  if (parsed < min) {
    throw new BadRequestError(code, min === 0 ? `${label} cannot be negative.` : `${label} must be a positive integer.`);
  }
  if (parsed > max) {
    throw new BadRequestError(
      code,
      name === 'offset' ? `${label} must be at most ${max}; page further with the cursor.` : `${label} must be at most ${max}.`,
    );
  }
  return parsed;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/** ISO-8601 date or date-time; a date-time without a zone is read as UTC. */
function instant(query: RawQuery, name: string): Date | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  const match = ISO_8601.exec(value);
  if (!match) throw invalid(name, 'must be an ISO-8601 date or date-time, e.g. 2025-07-01T12:00:00Z');
  let normalised = value.replace(' ', 'T').replace(/z$/, 'Z');
  if (normalised.length > 10) {
    if (match[1] === undefined) normalised += 'Z';
    // JavaScript only reads "+HH:MM" offsets; "+HHMM" and "+HH" are ISO-8601 too.
    else normalised = normalised.replace(/([+-]\d{2})(\d{2})$/, '$1:$2').replace(/([+-]\d{2})$/, '$1:00');
  }
  const ms = Date.parse(normalised);
  // PostgreSQL has no year 0, and a 4-digit year with an offset can land there.
  if (Number.isNaN(ms) || new Date(ms).getUTCFullYear() < 1) throw invalid(name, 'is not a real date');
  return new Date(ms);
}
