import type { AlertFilters } from './alert-store.ts';

/**
 * Builds the WHERE clause of a filtered alert query. The text depends only on
 * which filters are present (values always travel as parameters), so each
 * combination is one prepared statement whose plan PostgreSQL keeps.
 */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

export function filterConditions(filters: AlertFilters, params: SqlParams): string[] {
  const where: string[] = [];
  if (filters.severity?.length) where.push(inList('severity', filters.severity, params));
  if (filters.status?.length) where.push(inList('status', filters.status, params));
  if (filters.ruleId?.length) where.push(inList('rule_id', filters.ruleId, params));
  if (filters.actorId !== undefined) where.push(`actor_id = ${params.add(filters.actorId)}`);
  if (filters.host !== undefined) where.push(`server_hostname = ${params.add(filters.host)}`);
  if (filters.origin?.length) {
    // `none` is how a client asks for alerts whose producer named no origin (NULL in the column).
    const named = filters.origin.filter((origin) => origin !== 'none');
    const parts = named.length ? [inList('origin', named, params)] : [];
    if (named.length !== filters.origin.length) parts.push('origin IS NULL');
    where.push(parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`);
  }
  if (filters.sourceService !== undefined) where.push(`source_service_name = ${params.add(filters.sourceService)}`);
  if (filters.since) where.push(`"timestamp" >= ${params.add(filters.since.toISOString())}::timestamptz`);
  if (filters.until) where.push(`"timestamp" < ${params.add(filters.until.toISOString())}::timestamptz`);
  if (filters.text?.length) {
    // Words are reduced to letters and digits before they get here, so to_tsquery cannot fail on syntax.
    const query = filters.text.map((word) => `${word}:*`).join(' & ');
    where.push(`search_vector @@ to_tsquery('simple', ${params.add(query)})`);
  }
  return where;
}

/** A single value compares with `=` so the planner sees an equality it can match to an index prefix. */
function inList(column: string, values: readonly string[], params: SqlParams): string {
  if (values.length === 1) return `${column} = ${params.add(values[0])}`;
  return `${column} = ANY(${params.add([...values])}::text[])`;
}

export function whereClause(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}
