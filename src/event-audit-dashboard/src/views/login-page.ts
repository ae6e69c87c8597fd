import { html } from '../../assets/js/html.js';
import type { AssetBundle } from '../http/assets.ts';
import { layout } from './layout.ts';

export interface LoginPageOptions {
  assets: AssetBundle;
  /** Where to go after logging in (already checked to be a local path). */
  next: string;
  name?: string;
  problem?: string;
  /** Local users exist (else only the identity proxy can log people in). */
  passwords: boolean;
}

/** The login form: a plain form post, so it works without JavaScript. */
export function loginPage(options: LoginPageOptions): string {
  const form = options.passwords
    ? html`<form class="login-form" method="post" action="/login">
<input type="hidden" name="next" value="${options.next}">
<div class="field"><label for="login-name">User name</label><input id="login-name" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="128" required autofocus value="${options.name ?? ''}"></div>
<div class="field"><label for="login-password">Password</label><input id="login-password" name="password" type="password" autocomplete="current-password" maxlength="1024" required></div>
<p class="actions"><button class="btn btn-primary" type="submit">Log in</button></p>
</form>`
    : html`<p>This dashboard logs people in through the identity proxy in front of it. Open it through that proxy.</p>`;
  return layout({
    title: 'Log in',
    assets: options.assets,
    body: html`<section class="panel login-panel" aria-labelledby="login-heading">
<h1 id="login-heading">Log in to AuditFlow</h1>
<p class="muted">Acknowledgements, resolutions and silences are recorded under your name.</p>
${options.problem ? html`<p class="login-problem" role="alert">${options.problem}</p>` : ''}
${form}
</section>`,
  });
}
