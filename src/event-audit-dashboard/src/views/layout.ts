import { html, type SafeHtml } from '../../assets/js/html.js';
import type { AssetBundle } from '../http/assets.ts';

export interface LayoutOptions {
  title: string;
  /** Which browser module enhances the page ("list" or "detail"); none for static pages. */
  script?: 'list' | 'detail' | 'silences' | 'exceptions';
  assets: AssetBundle;
  body: SafeHtml;
  /** Data attributes for the page script, e.g. { actions: 'enabled' }. */
  data?: Record<string, string>;
}

/** The page shell: no inline script or style, so the CSP can forbid both. */
export function layout(options: LayoutOptions): string {
  const data = Object.entries(options.data ?? {}).map(([key, value]) => html` data-${key}="${value}"`);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${options.title} · AuditFlow</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${options.assets.url('css/app.css')}">
${options.script ? html`<script type="module" src="${options.assets.url(`js/${options.script}.js`)}"></script>` : ''}
</head>
<body${data}>
<a class="skip-link" href="#main">Skip to content</a>
<header class="topbar">
<a class="brand" href="/"><span class="brand-mark" aria-hidden="true"></span>AuditFlow <span class="brand-sub">security alerts</span></a>
<p class="conn" data-conn hidden><span class="conn-dot" aria-hidden="true"></span><span data-conn-text role="status">Connecting…</span><span data-conn-detail aria-hidden="true"></span></p>
</header>
<main id="main" tabindex="-1">
${options.body}
</main>
<footer class="footer"><p>Times are shown in your local time zone; hover a time for UTC.</p></footer>
</body>
</html>
`.toString();
}

/** Headers for every HTML page: a CSP without 'unsafe-inline' and no framing. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};
