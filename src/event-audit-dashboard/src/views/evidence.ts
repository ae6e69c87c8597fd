import { html, type SafeHtml } from '../../assets/js/html.js';
import { field, timeHtml } from '../../assets/js/render.js';

/** How far around an alert's episode the activity link looks. */
const CONTEXT_MS = 60 * 60_000;

/** The activity view of one host, user or address, from an hour before the episode to an hour after. */
export function activityHref(key: 'host' | 'user' | 'address', value: string, alert: Record<string, unknown>): string {
  const first = Date.parse(field(alert, 'first_seen') || field(alert, 'timestamp'));
  const last = Date.parse(field(alert, 'last_seen') || field(alert, 'timestamp'));
  const params = new URLSearchParams({ [key]: value });
  if (!Number.isNaN(first)) params.set('since', new Date(first - CONTEXT_MS).toISOString());
  if (!Number.isNaN(last)) params.set('until', new Date(last + CONTEXT_MS).toISOString());
  return `/activity?${params.toString()}`;
}

function eventLine(event: Record<string, unknown>, triggerId: string): SafeHtml {
  const parts = [field(event, 'event_type'), field(event, 'action_result')].filter(Boolean).join(' · ');
  const who = field(event, 'user_id');
  const host = field(event, 'server_hostname');
  const ip = field(event, 'ip_address');
  const resource = field(event, 'resource');
  const isTrigger = field(event, 'event_id') === triggerId;
  return html`<li class="${isTrigger ? 'is-trigger' : ''}" data-evidence-event="${field(event, 'event_id')}">${timeHtml(event['timestamp'])} <strong>${parts}</strong>${who ? html` <span>user ${who}</span>` : ''}${host ? html` <span>on ${host}</span>` : ''}${ip ? html` <span>from ${ip}</span>` : ''}${resource ? html` <span class="muted">${resource}</span>` : ''}${isTrigger ? html` <span class="muted">(triggering event)</span>` : ''}</li>`;
}

/**
 * The events that made an alert, oldest first. Between the earliest and the
 * latest kept events, a line says how many were folded in but not kept.
 */
export function evidenceTimeline(evidence: Record<string, unknown>, triggerId: string): SafeHtml {
  const events = Array.isArray(evidence['events']) ? (evidence['events'] as Record<string, unknown>[]) : [];
  const total = Number(evidence['total']) || events.length;
  const omitted = Number(evidence['omitted']) || 0;
  if (events.length === 0) return html`<p class="muted">No events recorded.</p>`;
  // The gap sits after the earliest events: where the first sample ends and the latest begins.
  const earliest = Number(evidence['earliest']) || Math.ceil(events.length / 2);
  const gapAt = omitted > 0 ? Math.min(Math.max(earliest, 1), events.length - 1) : -1;
  const note =
    evidence['complete'] === false
      ? html`<p class="hint">The producer of this alert kept no evidence (e.g. the original analysis): only its triggering event is known.</p>`
      : html`<p class="hint">${total} event${total === 1 ? '' : 's'} made this alert${omitted > 0 ? `; the earliest and latest ${events.length} are shown` : ''}.</p>`;
  return html`${note}<ol class="timeline" data-timeline>${events.map(
    (event, index) =>
      html`${index === gapAt ? html`<li class="gap" data-evidence-gap>… ${omitted} more event${omitted === 1 ? '' : 's'} in between …</li>` : ''}${eventLine(event, triggerId)}`,
  )}</ol>`;
}
