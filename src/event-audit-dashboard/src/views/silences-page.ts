import { html, type SafeHtml } from '../../assets/js/html.js';
import { field, timeHtml } from '../../assets/js/render.js';
import type { Matcher, Silence } from '../backend/triage-api.ts';
import type { AssetBundle } from '../http/assets.ts';
import { layout } from './layout.ts';

export interface SilencesPageModel {
  assets: AssetBundle;
  /** Undefined when they could not be listed (see `problem`). */
  silences: Silence[] | undefined;
  problem?: string;
  /** Matchers for the create form (from an alert row), or undefined for the closed form. */
  prefill?: { matchers: Matcher[]; alertId?: string; alertName?: string } | undefined;
  actionsEnabled: boolean;
  /** Id of a silence just created or expired, to point it out. */
  highlight?: string | undefined;
}

const STATES = [
  ['active', 'Active', 'Matching alerts are stored and shown, but not delivered.'],
  ['pending', 'Pending', 'Start in the future.'],
  ['expired', 'Expired', 'Ended or expired by hand.'],
] as const;

export const DURATIONS: [string, string][] = [
  ['1h', '1 hour'],
  ['4h', '4 hours'],
  ['24h', '24 hours'],
  ['7d', '7 days'],
];

export function silencesPage(model: SilencesPageModel): string {
  const groups = STATES.map(([state, label, note]) => {
    const items = (model.silences ?? []).filter((s) => field(s, 'status') === state);
    return html`<section class="card silences-group" aria-labelledby="sil-${state}"><h2 id="sil-${state}">${label} <span class="group-count">${items.length}</span></h2>
<p class="hint">${note}</p>
${items.length === 0 ? html`<p class="muted">None.</p>` : html`<ul class="silences" role="list">${items.map((s) => silenceItem(s, model))}</ul>`}
</section>`;
  });
  return layout({
    title: 'Silences',
    script: 'silences',
    assets: model.assets,
    data: { page: 'silences', actions: model.actionsEnabled ? 'enabled' : 'disabled' },
    body: html`<p class="crumbs"><a href="/">← All alerts</a></p>
<div class="page-head"><h1>Silences</h1></div>
${createForm(model)}
${
  model.silences === undefined
    ? html`<section class="panel panel-error" role="alert" data-silences-problem><h2>Silences are unavailable</h2><p>${model.problem ?? ''}</p></section>`
    : html`<div class="silences-grid">${groups}</div>`
}`,
  });
}

function silenceItem(silence: Silence, model: SilencesPageModel): SafeHtml {
  const id = field(silence, 'id');
  const matchers = Array.isArray(silence['matchers']) ? silence['matchers'] : [];
  const expired = field(silence, 'status') === 'expired';
  return html`<li class="silence${id === model.highlight ? ' is-fresh' : ''}" data-silence-id="${id}">
<p class="matchers">${matchers.map((m) => matcherChip(m as Record<string, unknown>))}</p>
${field(silence, 'comment') ? html`<p class="silence-comment">${field(silence, 'comment')}</p>` : ''}
<p class="silence-meta muted">${field(silence, 'created_by') ? html`by ${field(silence, 'created_by')} · ` : ''}from ${timeHtml(silence['starts_at'])} until ${timeHtml(silence['ends_at'])}</p>
${
  expired
    ? ''
    : html`<p><button type="button" class="btn btn-small" data-expire="${id}"${model.actionsEnabled ? '' : html` disabled`}>Expire now</button></p>`
}
</li>`;
}

function matcherChip(matcher: Record<string, unknown>): SafeHtml {
  const regex = matcher['isRegex'] === true;
  const shown = matcher['isEqual'] === false ? (regex ? '!~' : '!=') : regex ? '=~' : '=';
  return html`<span class="matcher"><span class="k">${field(matcher, 'name')}</span><span class="op">${shown}</span><code>${field(matcher, 'value')}</code></span> `;
}

const MATCHER_NAMES = ['rule_id', 'host', 'user', 'severity', 'alert_name', 'source_service', 'environment'];

function createForm(model: SilencesPageModel): SafeHtml {
  const prefill = model.prefill;
  const rows: Matcher[] = prefill?.matchers.length ? prefill.matchers : [{ name: 'rule_id', value: '', isRegex: false, isEqual: true }];
  const disabled = !model.actionsEnabled;
  return html`<details class="card silence-create" data-silence-create${prefill ? html` open` : ''}>
<summary><h2>New silence${prefill?.alertName ? html` <span class="muted">for alerts like “${prefill.alertName}”</span>` : ''}</h2></summary>
<form class="silence-form" data-silence-form${prefill?.alertId ? html` data-alert-id="${prefill.alertId}"` : ''}>
<fieldset class="matcher-rows"><legend>Silence alerts where every checked matcher holds</legend>
${rows.map(
  (m, i) => html`<div class="matcher-row" data-matcher-row>
<input type="checkbox" name="use" value="${i}" checked aria-label="Use matcher ${i + 1}">
<label class="visually-hidden" for="m-name-${i}">Matcher ${i + 1} name</label>
<select id="m-name-${i}" name="name-${i}">${[...new Set([m.name, ...MATCHER_NAMES])].map(
    (n) => html`<option value="${n}"${n === m.name ? html` selected` : ''}>${n}</option>`,
  )}</select>
<label class="visually-hidden" for="m-op-${i}">Matcher ${i + 1} operator</label>
<select id="m-op-${i}" name="op-${i}" class="op-select"><option value="=">=</option><option value="!=">!=</option><option value="=~">=~ (regex)</option><option value="!~">!~</option></select>
<label class="visually-hidden" for="m-value-${i}">Matcher ${i + 1} value</label>
<input id="m-value-${i}" name="value-${i}" value="${m.value}" maxlength="512" required>
</div>`,
)}
</fieldset>
<div class="silence-fields">
<div class="field"><label for="s-duration">Duration</label><select id="s-duration" name="duration">${DURATIONS.map(
    ([value, label]) => html`<option value="${value}"${value === '4h' ? html` selected` : ''}>${label}</option>`,
  )}</select></div>

<div class="field field-wide"><label for="s-comment">Comment</label><input id="s-comment" name="comment" maxlength="1000" required placeholder="why, and who follows up"></div>
</div>
<div class="form-actions"><button type="submit" class="btn btn-primary"${disabled ? html` disabled aria-describedby="silence-disabled"` : ''}>Create silence</button></div>
${
  disabled
    ? html`<p id="silence-disabled" class="hint">Creating silences is disabled: this dashboard has no NOTIFICATION_API_TOKEN configured.</p>`
    : html`<p class="hint" data-needs-js>Creating a silence needs JavaScript.</p>`
}
<p class="form-message" role="status" aria-live="polite" data-form-message></p>
</form>
</details>`;
}
