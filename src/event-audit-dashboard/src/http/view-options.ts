import { ValidationError } from '@auditflow/common';
import { fieldPointer } from '@auditflow/common/contracts';
import { GROUPS, SORTS } from '../../assets/js/table.js';
import { Type } from '@sinclair/typebox';
import { type AlertFilters, FilterQuerySchema, pageQuery, type RawQuery } from './filters.ts';

/**
 * How the list is shown: sort order, grouping and table or cards. These
 * live in the page URL beside the filters but never reach the notification
 * API, so they are taken out of the query before the filters are read.
 */
export interface ViewOptions {
  sort: 'time' | 'severity' | 'count';
  group: 'none' | 'rule' | 'host';
  view: 'table' | 'cards';
}

export const DEFAULT_VIEW: ViewOptions = { sort: 'time', group: 'none', view: 'table' };
const VIEWS = ['table', 'cards'];

/** The list page's query: the filters plus the view options (anything else is a 400). */
export const PageQuerySchema = Type.Object(
  { ...FilterQuerySchema.properties, sort: Type.Optional(Type.String()), group: Type.Optional(Type.String()), view: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

/** Splits the page query into view options (validated) and the rest (the filters). */
export function splitViewOptions(query: RawQuery): { view: ViewOptions; rest: RawQuery } {
  const rest: RawQuery = { ...query };
  const problems: { param: string; problem: string }[] = [];
  const pick = <T extends string>(name: keyof ViewOptions, allowed: readonly string[]): T => {
    const value = rest[name];
    delete rest[name];
    if (value === undefined || value === '') return DEFAULT_VIEW[name] as T;
    const text = Array.isArray(value) ? undefined : String(value).trim().toLowerCase();
    if (text === undefined || !allowed.includes(text)) {
      problems.push({ param: name, problem: `must be one of ${allowed.join(', ')}` });
      return DEFAULT_VIEW[name] as T;
    }
    return text as T;
  };
  const view: ViewOptions = { sort: pick('sort', SORTS), group: pick('group', GROUPS), view: pick('view', VIEWS) };
  if (problems.length > 0) {
    throw new ValidationError(problems.map((p) => `${p.param} ${p.problem}`).join('; '), problems.map((p) => ({ path: fieldPointer(p.param), message: p.problem })));
  }
  return { view, rest };
}

/** The page URL of a filter set and view, only naming what differs from the defaults. */
export function listHref(filters: AlertFilters, view: ViewOptions, overrides: Partial<ViewOptions> & { cursor?: string | undefined } = {}): string {
  const params = pageQuery(filters, 'cursor' in overrides ? { cursor: overrides.cursor } : {});
  const shown = { ...view, ...overrides };
  for (const name of ['sort', 'group', 'view'] as const) {
    if (shown[name] !== DEFAULT_VIEW[name]) params.set(name, shown[name]);
  }
  const text = params.toString();
  return text === '' ? '/' : `/?${text}`;
}
