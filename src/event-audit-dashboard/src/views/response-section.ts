import type { AlertResponse, ResponseDecision } from '@auditflow/common/contracts';
import { html, raw, type SafeHtml } from '../../assets/js/html.js';
import { timeHtml } from '../../assets/js/render.js';

/** The alert's decisions and their steps, or why they could not be fetched. */
export type ResponseSectionModel = AlertResponse | string;

const STATE_TEXT: Record<string, string> = {
  pending: 'waiting to be pushed',
  pushed: 'banned',
  recorded: 'dry run: recorded, not pushed',
  skipped: 'skipped',
  undone: 'undone',
};

/**
 * "Response" on the alert page: each decision a crowdsec output made (docs/outputs.md), its
 * state and expiry, and an Undo button while it can be undone. Each step (decided, pushed, undone
 * by whom, …) is in the alert's one History timeline (statusPanelHtml), not here. Hidden when the
 * alert has no decision and none failed to load.
 */
export function responseSection(model: ResponseSectionModel | undefined, actionsEnabled: boolean): SafeHtml {
  if (model === undefined) return html``;
  if (typeof model === 'string') {
    return section(html`<p class="muted" data-response-problem>Response decisions cannot be shown: ${model}</p>`);
  }
  if (model.decisions.length === 0) return html``;
  return section(html`<ul class="decisions">${model.decisions.map((d) => decisionItem(d, actionsEnabled))}</ul>
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

function hours(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
