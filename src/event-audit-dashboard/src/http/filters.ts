import {
  ALERT_STATUSES,
  ANY_UUID,
  type AlertStatsQuery,
  type AlertStatus,
  type ListAlertsQuery,
  ValidationError,
} from '@auditflow/common';
import { Type } from '@sinclair/typebox';

export { type AlertStatus, ALERT_STATUSES as STATUSES };

export const RANGES = ['15m', '1h', '24h', '7d'] as const;
export type RangePreset = (typeof RANGES)[number];
const RANGE_MS: Record<RangePreset, number> = {
  '15m': 15 * 60_000,
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
};

export const BUCKETS = ['minute', 'hour', 'day'] as const;
export type Bucket = (typeof BUCKETS)[number];

export const DEFAULT_PAGE_SIZE = 50;

/** The five levels and the legacy names render.js maps onto them; anything else is a typo. */
export const KNOWN_SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO', 'WARNING', 'WARN', 'ERROR', 'INFORMATIONAL', 'NOTICE'];

/**
 * The list filters as they appear in the dashboard's URL. They are kept
 * relative ("last 24h") rather than as absolute times, so a shared link shows
 * the same window whenever it is opened.
 */
export interface AlertFilters {
  severity: string[];
  status: AlertStatus | undefined;
  ruleId: string | undefined;
  user: string | undefined;
  host: string | undefined;
  /** One origin (k8s_audit, syslog, journald, synthetic) or `real` (every origin but synthetic). */
  origin: Origin | undefined;
  q: string | undefined;
  /** A preset, 'custom' (since/until below) or undefined for any time. */
  range: RangePreset | 'custom' | undefined;
  since: string | undefined;
  until: string | undefined;
  limit: number;
  cursor: string | undefined;
}

export type RawQuery = Record<string, unknown>;

/** The origins the filter offers; `real` is everything but the generator's demo stream (including alerts of unknown origin). */
export const ORIGINS = ['real', 'k8s_audit', 'syslog', 'journald', 'synthetic'] as const;
export type Origin = (typeof ORIGINS)[number];
/** What `real` asks the notification API for. */
const REAL_ORIGINS = 'k8s_audit,syslog,journald,none';

/** A filter value; the severity checkboxes of the form send their parameter once per box. */
const Text = Type.String();
const Repeatable = Type.Union([Type.String(), Type.Array(Type.String())]);

/**
 * The parameters of the list page and the JSON API's list and stats: the
 * schema names them, so an unknown one (a typo such as `server_hostname`) is
 * a 400 instead of a filter silently dropped; parseFilters reads the values.
 */
export const FilterQuerySchema = Type.Object(
  {
    severity: Type.Optional(Repeatable),
    status: Type.Optional(Text),
    rule_id: Type.Optional(Text),
    user: Type.Optional(Text),
    host: Type.Optional(Text),
    origin: Type.Optional(Text),
    q: Type.Optional(Text),
    range: Type.Optional(Text),
    since: Type.Optional(Text),
    until: Type.Optional(Text),
    limit: Type.Optional(Text),
    cursor: Type.Optional(Text),
  },
  { additionalProperties: false },
);

interface Problem {
  param: string;
  problem: string;
}

/** Validates the list query; throws one ValidationError naming every bad parameter. */
export function parseFilters(query: RawQuery): AlertFilters {
  const problems: Problem[] = [];
  const read = new QueryReader(query, problems);
  const range = read.enumeration('range', [...RANGES, 'custom', 'any'] as const);
  const filters: AlertFilters = {
    severity: read.list('severity', /^[A-Za-z][A-Za-z0-9_-]{0,49}$/, 10).map((s) => s.toUpperCase()),
    status: read.enumeration('status', ALERT_STATUSES),
    ruleId: read.text('rule_id', 255),
    user: read.text('user', 255),
    host: read.text('host', 255),
    origin: read.enumeration('origin', ORIGINS),
    q: read.text('q', 200),
    range: range === 'any' ? undefined : range,
    since: read.time('since'),
    until: read.time('until'),
    limit: read.int('limit', DEFAULT_PAGE_SIZE, 1, 500),
    cursor: read.pattern('cursor', /^[A-Za-z0-9_\-.:+/=]{1,512}$/),
  };
  const unknown = filters.severity.filter((s) => !KNOWN_SEVERITIES.includes(s));
  if (unknown.length > 0) problems.push({ param: 'severity', problem: `has unknown level ${unknown.join(', ')} (known: ${KNOWN_SEVERITIES.join(', ')})` });
  if (filters.since && filters.until && filters.since >= filters.until) {
    problems.push({ param: 'since', problem: 'must be before until' });
  }
  if (problems.length > 0) {
    throw new ValidationError(problems.map((p) => `${p.param} ${p.problem}`).join('; '), problems);
  }
  // Explicit times only count in a custom (or unset) range; a preset wins.
  if (filters.range !== undefined && filters.range !== 'custom') {
    filters.since = undefined;
    filters.until = undefined;
  }
  if (filters.range === undefined && (filters.since || filters.until)) filters.range = 'custom';
  return filters;
}

/** The absolute window a filter set stands for at `now`. */
export function timeWindow(filters: AlertFilters, now: Date): { since?: string; until?: string } {
  if (filters.range !== undefined && filters.range !== 'custom') {
    return { since: new Date(now.getTime() - RANGE_MS[filters.range]).toISOString() };
  }
  return {
    ...(filters.since === undefined ? {} : { since: filters.since }),
    ...(filters.until === undefined ? {} : { until: filters.until }),
  };
}

/** Query of the notification API's GET /alerts (and the shared part of /alerts/stats). */
export function backendListParams(filters: AlertFilters, now: Date, options: { paging: boolean }): ListAlertsQuery {
  const params: ListAlertsQuery = {};
  if (options.paging) params.limit = filters.limit;
  if (filters.severity.length > 0) params.severity = filters.severity.join(',');
  if (filters.status) params.status = filters.status;
  if (filters.ruleId) params.rule_id = filters.ruleId;
  if (filters.user) params.user = filters.user;
  if (filters.host) params.host = filters.host;
  if (filters.origin) params.origin = filters.origin === 'real' ? REAL_ORIGINS : filters.origin;
  const window = timeWindow(filters, now);
  if (window.since) params.since = window.since;
  if (window.until) params.until = window.until;
  if (filters.q) params.q = filters.q;
  if (options.paging && filters.cursor) params.cursor = filters.cursor;
  return params;
}

/**
 * Query of GET /alerts/stats. Without a time filter the chart still needs a
 * window: it shows the last 24 hours then, and says so.
 */
export function backendStatsParams(
  filters: AlertFilters,
  now: Date,
): { params: AlertStatsQuery & { since: string }; bucket: Bucket } {
  const { limit: _limit, offset: _offset, cursor: _cursor, ...shared } = backendListParams(filters, now, { paging: false });
  const until = shared.until === undefined ? now.getTime() : Date.parse(shared.until);
  const since = shared.since ?? new Date(until - RANGE_MS['24h']).toISOString();
  const bucket = bucketFor(until - Date.parse(since));
  return { params: { ...shared, since, bucket }, bucket };
}

/** Picks a bucket that gives the chart between a handful and ~120 bars. */
export function bucketFor(spanMs: number): Bucket {
  if (spanMs <= 2 * 3_600_000) return 'minute';
  if (spanMs <= 4 * 86_400_000) return 'hour';
  return 'day';
}

/** The dashboard URL query for a filter set (links, paging, the JSON API's echo). */
export function pageQuery(filters: AlertFilters, overrides: { cursor?: string | undefined } = {}): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.severity.length > 0) params.set('severity', filters.severity.join(','));
  if (filters.status) params.set('status', filters.status);
  if (filters.ruleId) params.set('rule_id', filters.ruleId);
  if (filters.user) params.set('user', filters.user);
  if (filters.host) params.set('host', filters.host);
  if (filters.origin) params.set('origin', filters.origin);
  if (filters.q) params.set('q', filters.q);
  if (filters.range) params.set('range', filters.range);
  if (filters.range === 'custom' && filters.since) params.set('since', filters.since);
  if (filters.range === 'custom' && filters.until) params.set('until', filters.until);
  if (filters.limit !== DEFAULT_PAGE_SIZE) params.set('limit', String(filters.limit));
  const cursor = 'cursor' in overrides ? overrides.cursor : filters.cursor;
  if (cursor) params.set('cursor', cursor);
  return params;
}

export function hasActiveFilters(filters: AlertFilters): boolean {
  return (
    filters.severity.length > 0 ||
    filters.status !== undefined ||
    filters.ruleId !== undefined ||
    filters.user !== undefined ||
    filters.host !== undefined ||
    filters.origin !== undefined ||
    filters.q !== undefined ||
    filters.range !== undefined
  );
}

const ISO_ZONED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
// What <input type="datetime-local"> submits when JavaScript is off; read as UTC.
const LOCAL_NAIVE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

class QueryReader {
  readonly #query: RawQuery;
  readonly #problems: Problem[];

  constructor(query: RawQuery, problems: Problem[]) {
    this.#query = query;
    this.#problems = problems;
  }

  /** Repeated parameters arrive as arrays: they are joined, so `a=1&a=2` reads like `a=1,2`. */
  #values(name: string): string[] {
    const value = this.#query[name];
    if (value === undefined) return [];
    const items = Array.isArray(value) ? value : [value];
    return items.map((item) => String(item).trim()).filter((item) => item !== '');
  }

  #single(name: string): string | undefined {
    const values = this.#values(name);
    if (values.length > 1) {
      this.#problems.push({ param: name, problem: 'must be given once' });
      return undefined;
    }
    return values[0];
  }

  text(name: string, max: number): string | undefined {
    const value = this.#single(name);
    if (value === undefined) return undefined;
    // Control characters never belong in these fields and would only confuse logs.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point.
    if (value.length > max || /[\u0000-\u001f\u007f]/.test(value)) {
      this.#problems.push({ param: name, problem: `must be at most ${max} printable characters` });
      return undefined;
    }
    return value;
  }

  pattern(name: string, pattern: RegExp): string | undefined {
    const value = this.#single(name);
    if (value === undefined) return undefined;
    if (!pattern.test(value)) {
      this.#problems.push({ param: name, problem: 'is malformed' });
      return undefined;
    }
    return value;
  }

  enumeration<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.#single(name);
    if (value === undefined) return undefined;
    const lower = value.toLowerCase() as T;
    if (!allowed.includes(lower)) {
      this.#problems.push({ param: name, problem: `must be one of ${allowed.join(', ')}` });
      return undefined;
    }
    return lower;
  }

  list(name: string, item: RegExp, max: number): string[] {
    const items = this.#values(name).flatMap((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== ''),
    );
    const unique = [...new Set(items)];
    if (unique.length > max || !unique.every((part) => item.test(part))) {
      this.#problems.push({ param: name, problem: `must be a comma-separated list of at most ${max} names` });
      return [];
    }
    return unique;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.#single(name);
    if (value === undefined) return fallback;
    const parsed = /^\d{1,9}$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.#problems.push({ param: name, problem: `must be an integer from ${min} to ${max}` });
      return fallback;
    }
    return parsed;
  }

  /** ISO-8601 with a zone (or a bare datetime-local value, taken as UTC), normalised to UTC. */
  time(name: string): string | undefined {
    const value = this.#single(name);
    if (value === undefined) return undefined;
    const text = LOCAL_NAIVE.test(value) ? `${value}Z` : value;
    const parsed = ISO_ZONED.test(text) ? Date.parse(text) : Number.NaN;
    if (Number.isNaN(parsed)) {
      this.#problems.push({ param: name, problem: 'must be an ISO-8601 date-time, e.g. 2026-01-31T08:00:00Z' });
      return undefined;
    }
    return new Date(parsed).toISOString();
  }
}

/** Alert ids are UUIDs; anything else is refused before it reaches the backend URL. */
export function isAlertId(value: string): boolean {
  return ANY_UUID.test(value);
}
