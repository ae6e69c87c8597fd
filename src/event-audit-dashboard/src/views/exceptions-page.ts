import type { AlertException } from '@auditflow/common/contracts';
import { html, type SafeHtml } from '../../assets/js/html.js';
import { timeHtml } from '../../assets/js/render.js';
import type { ExceptionFileState } from '../backend/exceptions-api.ts';
import type { AssetBundle } from '../http/assets.ts';
import { layout } from './layout.ts';

export interface ExceptionsPageModel {
  assets: AssetBundle;
  /** Undefined when they could not be listed (see `problem`). */
  exceptions: AlertException[] | undefined;
  file?: ExceptionFileState | undefined;
  /** The whole exceptions file, as the analysis loads it. */
  yaml?: string | undefined;
  problem?: string;
  actionsEnabled: boolean;
}

/** Every exception, and the file to commit: what "Never alert on this" saved. */
export function exceptionsPage(model: ExceptionsPageModel): string {
  const list = model.exceptions;
  return layout({
    title: 'Exceptions',
    script: 'exceptions',
    assets: model.assets,
    data: { page: 'exceptions', actions: model.actionsEnabled ? 'enabled' : 'disabled' },
    body: html`<p class="crumbs"><a href="/">← All alerts</a></p>
<div class="page-head"><h1>Exceptions</h1></div>
<p class="lead">Alerts an exception matches are never raised. Make one from an alert's page ("Never alert on this").</p>
${
  list === undefined
    ? html`<section class="panel panel-error" role="alert" data-exceptions-problem><h2>Exceptions are unavailable</h2><p>${model.problem ?? ''}</p></section>`
    : html`<section class="card" aria-labelledby="exc-list"><h2 id="exc-list">Saved <span class="group-count">${list.length}</span></h2>
${list.length === 0 ? html`<p class="muted">None.</p>` : html`<ul class="silences" role="list">${list.map((e) => item(e, model.actionsEnabled))}</ul>`}
</section>
${fileCard(model)}`
}`,
  });
}

function item(exception: AlertException, actionsEnabled: boolean): SafeHtml {
  return html`<li class="silence${exception.active ? '' : ' is-expired'}" data-exception-id="${exception.id}">
<p class="matchers"><span class="matcher"><span class="k">rule_id</span><span class="op">=</span><code>${exception.rule_id}</code></span> ${Object.entries(exception.fields).map(
    ([name, value]) => html`<span class="matcher"><span class="k">${name}</span><span class="op">=</span><code>${value}</code></span> `,
  )}</p>
<p class="silence-comment">${exception.reason}</p>
<p class="silence-meta muted">by ${exception.author} · ${timeHtml(exception.created_at)}${exception.expires_at ? html` · ${exception.active ? 'expires' : 'expired'} ${timeHtml(exception.expires_at)}` : ''}</p>
<p><button type="button" class="btn btn-small" data-delete-exception="${exception.id}"${actionsEnabled ? '' : html` disabled`}>Delete</button></p>
</li>`;
}

function fileCard(model: ExceptionsPageModel): SafeHtml {
  const file = model.file;
  const where = file?.written
    ? html`The analysis of this installation reads <code>${file.path ?? ''}</code>, which is rewritten on every change.`
    : html`In a cluster the analysis reads the exceptions file from a ConfigMap. Commit this file to Git as <code>exceptions.yaml</code> of the chart values (docs/analysis-rules.md, "Exceptions"); it takes effect once the ConfigMap is updated.`;
  return html`<section class="card" aria-labelledby="exc-file"><h2 id="exc-file">The exceptions file</h2><p class="hint">${where}</p>
<pre tabindex="0" aria-label="The exceptions file" data-exceptions-yaml><code>${model.yaml ?? ''}</code></pre></section>`;
}
