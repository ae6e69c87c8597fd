import { html, type SafeHtml } from '../../assets/js/html.js';
import type { AssetBundle } from '../http/assets.ts';
import { layout } from './layout.ts';

/**
 * The "notification service unavailable" panel. `data-backend-down` lets the
 * page script retry with backoff and reload once the service answers again.
 */
export function backendDownPanel(retryHref: string, detail: string): SafeHtml {
  return html`<section class="panel panel-error" role="alert" data-backend-down aria-labelledby="down-heading">
<h2 id="down-heading">Notification service unavailable</h2>
<p>The dashboard cannot reach the notification service, so alerts cannot be shown right now. Nothing is lost: alerts keep being stored and will appear once it is back.</p>
<p class="muted">${detail}</p>
<p><a class="btn btn-primary" href="${retryHref}">Retry now</a> <span class="muted" data-retry-status aria-live="polite"></span></p>
</section>`;
}

export interface MessagePageOptions {
  assets: AssetBundle;
  title: string;
  heading: string;
  message: string;
  links: { href: string; label: string }[];
  /** Enhance with a page script (retries for backend-down pages). */
  script?: 'list' | 'detail';
  extra?: SafeHtml;
}

/** 400/404 and other pages that only explain and offer a way on. */
export function messagePage(options: MessagePageOptions): string {
  return layout({
    title: options.title,
    assets: options.assets,
    ...(options.script ? { script: options.script } : {}),
    body: html`<section class="panel panel-message" aria-labelledby="message-heading">
<h1 id="message-heading">${options.heading}</h1>
<p>${options.message}</p>
<p class="actions">${options.links.map((link) => html`<a class="btn" href="${link.href}">${link.label}</a> `)}</p>
</section>${options.extra ?? ''}`,
  });
}

/** A page whose only content is the backend-down panel (the detail page's 503). */
export function backendDownPage(options: { assets: AssetBundle; retryHref: string; detail: string; script: 'list' | 'detail' }): string {
  return layout({
    title: 'Notification service unavailable',
    script: options.script,
    assets: options.assets,
    body: html`<p class="crumbs"><a href="/">← All alerts</a></p>${backendDownPanel(options.retryHref, options.detail)}`,
  });
}
