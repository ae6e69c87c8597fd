import type { AlertStats, AlertStatsQuery, StatsBucket } from './alert-store.ts';
import { filterConditions, type SqlParams, whereClause } from './filter-sql.ts';

export const BUCKET_MS: Record<StatsBucket, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export interface StatsRow {
  g_bucket: number;
  g_status: number;
  g_rule: number;
  severity: string | null;
  status: string | null;
  rule_id: string | null;
  rule_name: string | null;
  bucket: string | null;
  n: number;
}

/** All four aggregations in one pass over the matching rows (GROUPING SETS). */
export function statsSql(query: AlertStatsQuery, params: SqlParams): string {
  const where = whereClause(filterConditions(query, params));
  const bucket = params.add(query.bucket);
  return `SELECT GROUPING(bucket) AS g_bucket, GROUPING(status) AS g_status, GROUPING(rule_id) AS g_rule,
  severity, status, rule_id, rule_name, af_iso(bucket) AS bucket, count(*)::int AS n
FROM (SELECT severity, status, rule_id, rule_name, date_trunc(${bucket}, "timestamp", 'UTC') AS bucket FROM alerts ${where}) s
GROUP BY GROUPING SETS ((severity), (status), (rule_id, rule_name), (bucket, severity))`;
}

/** Shapes the grouped rows; the timeline gets every bucket of the window, empty ones included, oldest first. */
export function buildStats(rows: readonly StatsRow[], query: AlertStatsQuery): AlertStats {
  const bySeverity: Record<string, number> = {};
  const byStatus: Record<string, number> = { open: 0, acknowledged: 0, resolved: 0 };
  const byRule: AlertStats['by_rule'] = [];
  const buckets = new Map<number, Record<string, number>>();
  for (const row of rows) {
    if (row.g_bucket === 0) {
      const at = Date.parse(row.bucket ?? '');
      const counts = buckets.get(at) ?? {};
      counts[row.severity ?? 'null'] = row.n;
      buckets.set(at, counts);
    } else if (row.g_status === 0) byStatus[row.status ?? 'null'] = row.n;
    else if (row.g_rule === 0) byRule.push({ rule_id: row.rule_id, rule_name: row.rule_name, count: row.n });
    else bySeverity[row.severity ?? 'null'] = row.n;
  }
  byRule.sort((a, b) => b.count - a.count || String(a.rule_id).localeCompare(String(b.rule_id)));
  const step = BUCKET_MS[query.bucket];
  const timeline: AlertStats['timeline'] = [];
  for (let at = truncate(query.since.getTime(), step); at < query.until.getTime(); at += step) {
    timeline.push({ bucket: new Date(at).toISOString(), counts: buckets.get(at) ?? {} });
  }
  return {
    total: Object.values(bySeverity).reduce((sum, n) => sum + n, 0),
    by_severity: bySeverity,
    by_status: byStatus,
    by_rule: byRule.slice(0, query.topRules),
    timeline,
  };
}

/** UTC buckets have fixed lengths (no DST), so plain arithmetic matches date_trunc(..., 'UTC'). */
function truncate(ms: number, step: number): number {
  return Math.floor(ms / step) * step;
}
