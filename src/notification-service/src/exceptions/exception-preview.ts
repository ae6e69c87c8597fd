import {
  alertLabels,
  type ExceptionMatcher,
  type ExceptionPreview,
  exceptionMatches,
  type LabelSource,
  PREVIEW_SAMPLE,
  PREVIEW_SCAN_LIMIT,
} from '@auditflow/common/contracts';
import type { ExceptionStore, PreviewPage } from './exception-store.ts';

const PAGE = 500;

/**
 * What an exception would have hidden among the stored alerts of the last `days` days: the rule
 * and the window are narrowed in SQL (an index range), every alert of that range is then decided
 * by exceptionMatches() on its labels, the analysis's own decision. Reads at most
 * PREVIEW_SCAN_LIMIT alerts, PAGE at a time, so memory stays flat whatever the table holds.
 */
export async function previewException(
  store: ExceptionStore,
  exception: ExceptionMatcher,
  days: number,
  now: Date,
): Promise<ExceptionPreview> {
  const from = new Date(now.getTime() - days * 86_400_000);
  let matched = 0;
  let scanned = 0;
  const alerts: ExceptionPreview['alerts'] = [];
  let after: PreviewPage['next'];
  do {
    const page = await store.previewPage(exception.rule_id, from, Math.min(PAGE, PREVIEW_SCAN_LIMIT - scanned), after);
    for (const json of page.rows) {
      scanned++;
      if (json === null) continue;
      const row = JSON.parse(json) as LabelSource & { timestamp: string };
      if (!exceptionMatches(exception, alertLabels(row))) continue;
      matched++;
      if (alerts.length < PREVIEW_SAMPLE) alerts.push({ alert_id: row.alert_id, alert_name: row.alert_name, timestamp: row.timestamp });
    }
    after = page.next;
  } while (after !== undefined && scanned < PREVIEW_SCAN_LIMIT);
  // A full last page may hide more: one more row says whether the bound cut anything off.
  const truncated = after !== undefined && (await store.previewPage(exception.rule_id, from, 1, after)).rows.length > 0;
  return { matched, scanned, truncated, alerts, window: { from: from.toISOString(), to: now.toISOString(), days } };
}
