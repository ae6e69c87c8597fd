import type { AlertResponse, ResponseDecision, ResponseEvent } from '@auditflow/common/contracts';
import { html, raw, type SafeHtml } from '../../assets/js/html.js';
import { timeHtml } from '../../assets/js/render.js';

/** The alert's decisions and history, or why they could not be fetched. */
export type ResponseSectionModel = AlertResponse | string;

const STATE_TEXT: Record<string, string> = {
  pending: 'waiting to be pushed',
  pushed: 'banned',
  recorded: 'dry run: recorded, not pushed',
  skipped: 'skipped',
  undone: 'undone',
};

const ACTION_TEXT: Record<string, string> = {
  decided: 'decided',
  recorded: 'recorded (dry run)',
  skipped: 'skipped',
  pushed: 'pushed to CrowdSec',
  'push-failed': 'push failed',
  undone: 'undone',
};

/**
 * "Response" on the alert page: each decision a crowdsec output made (docs/outputs.md), its
 * state and expiry, an Undo button while it can be undone, and the response history with who
 * or which rule did each step. Hidden when the alert has no decision and none failed to load.
 */
export function responseSection(model: ResponseSectionModel | undefined, actionsEnabled: boolean): SafeHtml {
  if (model === undefined) return html``;
  if (typeof model === 'string') {
    return section(html`<p class="muted" data-response-problem>Response decisions cannot be shown: ${model}</p>`);
  }
  if (model.decisions.length === 0) return html``;
  return section(html`<ul class="decisions">${model.decisions.map((d) => decisionItem(d, actionsEnabled))}</ul>
${history(model.events)}
<p class="form-message" role="status" aria-live="polite" data-response-message></p>`);
}

function section(body: SafeHtml): SafeHtml {
  return html`<section class="card card-response" aria-labelledby="card-response" data-response><h2 id="card-response">Response</h2>${body}</section>`;
}

function decisionItem(d: ResponseDecision, actionsEnabled: boolean): SafeHtml {
  const undoable = d.state === 'pushed' || d.state === 'pending' || d.state === 'recorded';
  const what = html`<strong>${d.type} ${d.address ?? '(no address)'}</strong> for ${hours(d.duration_seconds)} <span class="muted">· ${d.output} · ${d.mode}</span>`;
  return html`<li data-decision="${d.id}" data-decision-state="${d.state}"><p>${what}</p>
<p><span class="rstate rstate-${d.state}">${STATE_TEXT[d.state] ?? d.state}</span>${d.reason ? html` <span class="muted">${d.reason}</span>` : ''}${
    d.state === 'pushed' && d.expires_at ? html` <span class="muted">until ${timeHtml(d.expires_at)}</span>` : ''
  }${d.undone_by ? html` <span class="muted">by ${d.undone_by}</span>` : ''}</p>
${d.last_error && d.state === 'pending' ? html`<p class="derror">${d.last_error}</p>` : ''}
${
  undoable
    ? html`<button type="button" class="btn btn-small" data-undo-decision="${d.id}"${raw(actionsEnabled ? '' : ' disabled title="needs NOTIFICATION_API_TOKEN"')}>${
        d.state === 'pushed' ? 'Undo ban' : 'Withdraw'
      }</button>`
    : ''
}</li>`;
}

function history(events: readonly ResponseEvent[]): SafeHtml {
  if (events.length === 0) return html``;
  return html`<h3>Response history</h3><ol class="history" data-response-history>${events.map(
    (e) =>
      html`<li>${timeHtml(e.at)} <span>${ACTION_TEXT[e.action] ?? e.action}</span> <span class="muted">by ${e.actor}</span>${e.detail ? html`<q>${e.detail}</q>` : ''}</li>`,
  )}</ol>`;
}

function hours(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
