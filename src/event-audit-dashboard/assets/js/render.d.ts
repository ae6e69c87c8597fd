// Types of render.js for the server, which renders pages with the same module.
import type { SafeHtml } from './html.js';

export interface TimelinePoint {
  bucket: string;
  counts: Record<string, number>;
}
export declare const SEVERITIES: readonly string[];
export declare const STATUSES: readonly string[];
export declare function severityKey(severity: unknown): string;
export declare function statusKey(status: unknown): string;
export declare function statusLabel(status: unknown): string;
export declare function field(row: Record<string, unknown>, key: string): string;
export declare function formatUtc(iso: unknown): string;
export declare function timeHtml(iso: unknown): SafeHtml;
export declare function severityBadge(severity: unknown): SafeHtml;
export declare function statusBadge(status: unknown): SafeHtml;
export declare function alertHref(id: unknown): string;
export declare function statusPanelHtml(row: Record<string, unknown>, options: { actionsEnabled: boolean; responseEvents?: unknown }): SafeHtml;
export declare function historyHtml(history: unknown, responseEvents?: unknown): SafeHtml;
export declare const RESPONSE_ACTION_TEXT: Record<string, string>;
export declare function fillTimeline(timeline: unknown, bucket: string, since: number, until: number): TimelinePoint[];
export declare function chartHtml(points: TimelinePoint[], options: { label: (iso: string) => string; caption: string }): SafeHtml;
