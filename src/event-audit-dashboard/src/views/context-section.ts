import { html, type SafeHtml } from '../../assets/js/html.js';
import type { AlertRow } from '../backend/notification-client.ts';

/** What each address scope means, in the words of docs/enrichment.md. */
const SCOPE_TEXT: Record<string, string> = {
  public: 'public (routed on the Internet)',
  private: 'private network (RFC 1918, fc00::/7)',
  loopback: 'loopback (this machine)',
  'link-local': 'link-local (same network segment)',
  cgnat: 'carrier-grade NAT (100.64.0.0/10)',
  documentation: 'documentation range (never a real source)',
  multicast: 'multicast',
  unspecified: 'unspecified address',
  reserved: 'reserved (not routed)',
};

const COUNTRY_NAMES = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

/**
 * The "Context" card of the alert page: where the source address is and whose the host is,
 * from the enrichment the analysis stored with the triggering event (docs/enrichment.md).
 * Nothing when the alert has none (enrichment off, or an alert from before it existed).
 */
export function contextSection(alert: AlertRow): SafeHtml {
  const enrichment = record(record(alert['raw_event_data'])['enrichment']);
  const ip = record(enrichment['ip']);
  const host = record(enrichment['host']);
  if (Object.keys(ip).length === 0 && Object.keys(host).length === 0) return html``;
  const facts: [string, SafeHtml | string][] = [];
  const country = text(ip['country']);
  if (country) facts.push(['Country', html`<span data-context="country">${countryName(country)}</span> <span class="muted">${country}</span>`]);
  const asn = text(ip['asn']);
  if (asn) facts.push(['Network', html`<span data-context="asn">AS${asn}</span>${text(ip['as_org']) ? html` · ${text(ip['as_org'])}` : ''}`]);
  const scope = text(ip['scope']);
  if (scope) facts.push(['Address scope', html`<span data-context="scope">${SCOPE_TEXT[scope] ?? scope}</span>${text(ip['address']) ? html` <span class="muted">${text(ip['address'])}</span>` : ''}`]);
  if (scope && scope !== 'public') facts.push(['Country and network', html`<span class="muted">not looked up: the address is not routed on the Internet</span>`]);
  if (text(host['owner'])) facts.push(['Host owner', html`<span data-context="owner">${text(host['owner'])}</span>`]);
  if (text(host['role'])) facts.push(['Host role', html`<span data-context="role">${text(host['role'])}</span>`]);
  const groups = Array.isArray(host['groups']) ? host['groups'].filter((g) => typeof g === 'string') : [];
  if (groups.length > 0) facts.push(['Host groups', html`<span class="tags">${groups.map((g) => html`<span class="tag">${g}</span> `)}</span>`]);
  if (text(host['name']) && Object.keys(host).length === 1) facts.push(['Host', html`${text(host['name'])} <span class="muted">(in the hosts file, no owner or role)</span>`]);
  // DB-IP's licence (CC BY 4.0) asks pages that show its ASN data for a link back.
  const attribution =
    country || asn
      ? html`<p class="muted attribution">Offline data: <a href="https://github.com/sapics/ip-location-db" rel="noopener noreferrer nofollow" target="_blank">ip-location-db</a>${
          asn ? html` (ASN: RouteViews, NRO, <a href="https://db-ip.com" rel="noopener noreferrer nofollow" target="_blank">IP Geolocation by DB-IP</a>)` : ''
        }</p>`
      : '';
  return html`<section class="card card-context" aria-labelledby="card-context" data-context-section><h2 id="card-context">Context</h2><dl class="facts">${facts.map(
    ([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`,
  )}</dl>${attribution}</section>`;
}

function countryName(code: string): string {
  try {
    return COUNTRY_NAMES.of(code) ?? code;
  } catch {
    return code;
  }
}

function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
