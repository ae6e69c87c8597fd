import { type AlertStatsQuery, type ListAlertsQuery, MAX_SEARCH_WORDS } from '@auditflow/common';
import {
  ALERT_STATUSES,
  type AlertFilters,
  type AlertListQuery,
  type AlertStatsQuery as StoreStatsQuery,
  type AlertStatus,
} from '../store/alert-store.ts';
import { BUCKET_MS } from '../store/stats-sql.ts';
import { BadRequestError } from './api-errors.ts';
import { decodeCursor } from './cursor.ts';

export const MAX_TIMELINE_BUCKETS = 5000;
export const TOP_RULES = 50;
const DAY_MS = 86_400_000;

/**
 * The validated query of GET /alerts and GET /alerts/stats (the route schemas
 * in @auditflow/common checked names, types and lengths) turned into the
 * store's filters: comma lists split, instants read, words of `q` found, and
 * the checks that span values or need parsing (since < until, list sizes).
 */
export function toListQuery(query: ListAlertsQuery): AlertListQuery {
  return {
    ...toFilters(query),
    limit: query.limit ?? 50,
    offset: query.offset ?? 0,
    ...(query.cursor === undefined ? {} : { after: decodeCursor(query.cursor) }),
  };
}

export function toStatsQuery(query: AlertStatsQuery, now: Date): StoreStatsQuery {
  const filters = toFilters(query);
  const bucket = query.bucket ?? 'hour';
  const until = filters.until ?? now;
  const since = filters.since ?? new Date(until.getTime() - DAY_MS);
  if (since.getTime() >= until.getTime()) throw invalid('since', 'must be before until');
  if ((until.getTime() - since.getTime()) / BUCKET_MS[bucket] > MAX_TIMELINE_BUCKETS) {
    throw invalid('bucket', `the window holds more than ${MAX_TIMELINE_BUCKETS} ${bucket} buckets; use a larger bucket`);
  }
  return { ...filters, since, until, bucket, topRules: TOP_RULES };
}

function toFilters(query: AlertStatsQuery): AlertFilters {
  const filters: AlertFilters = {};
  const severity = list(query.severity, 'severity', 50, 10);
  if (severity) filters.severity = severity;
  const status = list(query.status, 'status', 16, 3);
  if (status) {
    for (const value of status) {
      if (!ALERT_STATUSES.includes(value as AlertStatus)) throw invalid('status', `'${value}' is not open, acknowledged or resolved`);
    }
    filters.status = status as AlertStatus[];
  }
  const ruleId = list(query.rule_id, 'rule_id', 255, 20);
  if (ruleId) filters.ruleId = ruleId;
  if (query.user !== undefined) filters.actorId = query.user;
  if (query.host !== undefined) filters.host = query.host;
  const origin = list(query.origin, 'origin', 32, 8);
  if (origin) filters.origin = origin;
  if (query.source_service !== undefined) filters.sourceService = query.source_service;
  const since = instant(query.since, 'since');
  if (since) filters.since = since;
  const until = instant(query.until, 'until');
  if (until) filters.until = until;
  if (since && until && since.getTime() >= until.getTime()) throw invalid('since', 'must be before until');
  if (query.q !== undefined) filters.text = searchWords(query.q);
  return filters;
}

/**
 * The words of `q`, as the search index splits text (punctuation separates
 * words and is never indexed). A q with no word at all, such as `%`, could
 * only be ignored, which would show every alert as if it matched: refused.
 */
function searchWords(q: string): string[] {
  const words = q
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '')
    .map((word) => word.slice(0, 64));
  if (words.length === 0) throw invalid('q', 'has no letter or digit to search for (punctuation only separates words)');
  if (words.length > MAX_SEARCH_WORDS) throw invalid('q', `at most ${MAX_SEARCH_WORDS} words`);
  return words;
}

function invalid(name: string, problem: string): BadRequestError {
  return new BadRequestError('AF_INVALID_PARAMETER', `${name} ${problem}`, [{ path: `/${name}`, message: problem }]);
}

/** A comma list; a value that holds no item at all (`severity=,`) is refused rather than read as no filter. */
function list(value: string | undefined, name: string, maxLength: number, maxItems: number): string[] | undefined {
  if (value === undefined) return undefined;
  const items = [...new Set(value.split(',').map((item) => item.trim()).filter((item) => item !== ''))];
  if (items.length === 0) throw invalid(name, 'names no value');
  if (items.length > maxItems) throw invalid(name, `takes at most ${maxItems} values`);
  if (items.some((item) => item.length > maxLength)) throw invalid(name, `values must be at most ${maxLength} characters`);
  return items;
}

/** A date-time without a zone is read as UTC (the schema checked the ISO-8601 shape). */
export function parseInstantParam(value: string | undefined, name: string): Date | undefined {
  return instant(value, name);
}

function instant(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const zoned = /(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/.test(value.slice(10));
  let normalised = value.replace(' ', 'T').replace(/t/, 'T').replace(/z$/, 'Z');
  if (normalised.length > 10) {
    if (!zoned) normalised += 'Z';
    // JavaScript only reads "+HH:MM" offsets; "+HHMM" and "+HH" are ISO-8601 too.
    else normalised = normalised.replace(/([+-]\d{2})(\d{2})$/, '$1:$2').replace(/([+-]\d{2})$/, '$1:00');
  }
  const ms = Date.parse(normalised);
  // PostgreSQL has no year 0, and a 4-digit year with an offset can land there.
  if (Number.isNaN(ms) || new Date(ms).getUTCFullYear() < 1) throw invalid(name, 'is not a real date');
  return new Date(ms);
}
