import {
  alertLabels,
  DEFAULT_PREVIEW_DAYS,
  EXCEPTION_RESERVED_FIELDS,
  type LabelSource,
  MAX_ACTOR,
  MAX_EXCEPTION_FIELDS,
  MAX_EXCEPTION_REASON,
  MAX_PREVIEW_DAYS,
} from '@auditflow/common/contracts';
import { html, type SafeHtml } from '../../assets/js/html.js';
import type { AlertRow } from '../backend/notification-client.ts';

/** A label the form offers: its exact value, and whether it starts checked. */
export interface ExceptionChoice {
  name: string;
  value: string;
  checked: boolean;
}

/** Labels that are the same for every alert of a rule: ticking them narrows nothing. */
const PER_RULE = new Set(['alert_name', 'alert_type', 'rule_name', 'severity']);
/** Group-key fields that the fixed labels `host` and `user` already stand for. */
const COVERED: Record<string, string> = { server_hostname: 'host', user_id: 'user' };
export const PREVIEW_DAYS = [1, 7, 30, MAX_PREVIEW_DAYS];

/**
 * The labels an exception can be made of for this alert: what exceptions match on (alertLabels,
 * the shared vocabulary), minus the rule's own and per-episode names. The alert's grouping (host,
 * user, other group-key fields such as details.ip_address) starts checked: "alerts like this".
 */
export function exceptionChoices(alert: AlertRow): ExceptionChoice[] {
  const labels = alertLabels(alert as unknown as LabelSource);
  const grouped = new Set(Object.keys((alert['group_key'] as Record<string, unknown> | null) ?? {}));
  const choices: ExceptionChoice[] = [];
  for (const [name, value] of Object.entries(labels)) {
    if (EXCEPTION_RESERVED_FIELDS.includes(name) || PER_RULE.has(name)) continue;
    const covering = COVERED[name];
    if (covering !== undefined && labels[covering] === value) continue;
    const checked = name === 'host' || name === 'user' ? grouped.size === 0 || [...grouped].some((g) => COVERED[g] === name) : grouped.has(name);
    choices.push({ name, value, checked });
  }
  const order = (c: ExceptionChoice) => (c.name === 'host' ? 0 : c.name === 'user' ? 1 : 2);
  return choices.sort((a, b) => order(a) - order(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).slice(0, MAX_EXCEPTION_FIELDS);
}

/** "Never alert on this": pick labels, preview what it would have hidden, then save with a reason. */
export function exceptionSection(alert: AlertRow, actionsEnabled: boolean): SafeHtml {
  const ruleId = typeof alert['rule_id'] === 'string' ? alert['rule_id'] : '';
  if (ruleId === '') return html``;
  const choices = exceptionChoices(alert);
  if (choices.length === 0) return html``;
  return html`<section class="card card-exception" aria-labelledby="card-exception" data-exception-section data-rule-id="${ruleId}">
<h2 id="card-exception">Never alert on this</h2>
<p class="hint">An exception hides future alerts of rule <code>${ruleId}</code> whose checked values are exactly these. Preview first: it counts the stored alerts it would have hidden.</p>
<form class="exception-form" data-exception-form>
<fieldset class="exception-fields"><legend>Alerts of this rule where</legend>
${choices.map(
  (c, i) => html`<label class="exception-field"><input type="checkbox" name="field" value="${c.name}" data-value="${c.value}"${c.checked ? html` checked` : ''}><span class="k">${c.name}</span> <span class="op">=</span> <code id="exc-v-${i}">${c.value}</code></label>`,
)}
</fieldset>
<div class="exception-preview-row">
<div class="field"><label for="exc-days">Look back</label><select id="exc-days" name="days">${PREVIEW_DAYS.map(
    (d) => html`<option value="${d}"${d === DEFAULT_PREVIEW_DAYS ? html` selected` : ''}>${d === 1 ? '1 day' : `${d} days`}</option>`,
  )}</select></div>
<button type="button" class="btn" data-exception-preview>Preview</button>
</div>
<p class="exception-result" role="status" aria-live="polite" data-exception-result></p>
<div class="silence-fields">
<div class="field field-wide"><label for="exc-reason">Reason</label><input id="exc-reason" name="reason" maxlength="${MAX_EXCEPTION_REASON}" required placeholder="why these alerts are expected"></div>
<div class="field"><label for="exc-author">Author</label><input id="exc-author" name="author" maxlength="${MAX_ACTOR}" autocomplete="name" required data-author></div>
<div class="field"><label for="exc-expires">Expires (optional)</label><input id="exc-expires" name="expires" type="date"></div>
</div>
<div class="form-actions"><button type="submit" class="btn btn-primary"${actionsEnabled ? '' : html` disabled aria-describedby="exception-disabled"`}>Save exception</button> <a class="btn btn-small" href="/exceptions">All exceptions</a></div>
${
  actionsEnabled
    ? html`<p class="hint" data-needs-js>Previewing and saving an exception needs JavaScript.</p>`
    : html`<p id="exception-disabled" class="hint">Saving exceptions is disabled: this dashboard has no NOTIFICATION_API_TOKEN configured.</p>`
}
<p class="form-message" role="status" aria-live="polite" data-form-message></p>
<div class="exception-saved" data-exception-saved hidden><p class="hint" data-exception-file></p><pre tabindex="0" aria-label="The exception as YAML"><code data-exception-yaml></code></pre></div>
</form>
</section>`;
}
