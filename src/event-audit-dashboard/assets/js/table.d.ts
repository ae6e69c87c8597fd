// Types of table.js for the server, which renders the triage table with the same module.
import type { SafeHtml } from './html.js';

export interface RowKeys {
  id: string;
  rank: number;
  time: number;
  count: number;
  rule: string;
  ruleLabel: string;
  host: string;
}
export interface TableView {
  sort: string;
  group: string;
}
export declare const SORTS: readonly string[];
export declare const GROUPS: readonly string[];
export declare function rowKeys(row: Record<string, unknown>): RowKeys;
export declare function arrange<T>(items: T[], keysOf: (item: T) => RowKeys, view: TableView): { key: string; label: string; items: T[] }[];
export declare function tableRowHtml(row: Record<string, unknown>): SafeHtml;
export declare function groupHeadHtml(group: { key: string; label: string }, count: number, by: string): SafeHtml;
export declare function tableBodiesHtml(rows: Record<string, unknown>[], view: TableView): SafeHtml[];
export declare function tableHeadHtml(view: TableView, sortHref: (sort: string) => string): SafeHtml;
