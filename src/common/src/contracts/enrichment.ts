import type { FromSchema } from 'json-schema-to-ts';

/**
 * What an address is, by the IANA special-purpose registries (RFC 6890 and
 * the RFCs it lists). Only `public` addresses are looked up in the country
 * and ASN databases: the others are not routed on the Internet, so any
 * answer a database gave for them would be noise (docs/enrichment.md has
 * the table).
 */
export const IP_SCOPES = ['public', 'private', 'loopback', 'link-local', 'cgnat', 'documentation', 'multicast', 'unspecified', 'reserved'] as const;
export type IpScope = (typeof IP_SCOPES)[number];

/**
 * Context the analysis computes for an event after decoding and before the
 * rules run (docs/enrichment.md): where its source address is and whose its
 * host is. Rules read it as `enrichment.ip.country` and so on, and an alert
 * carries the enrichment of the event that triggered it. A producer cannot
 * set it: the analysis drops any `enrichment` an event arrives with.
 */
export const enrichmentSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ip: {
      type: 'object',
      additionalProperties: false,
      required: ['address', 'scope'],
      properties: {
        address: { type: 'string', maxLength: 64, description: "the event's source address, as the event carried it" },
        scope: { type: 'string', enum: IP_SCOPES, description: 'public, private, loopback, link-local, cgnat, documentation, multicast, unspecified or reserved' },
        country: { type: 'string', maxLength: 8, description: 'ISO 3166-1 alpha-2 code; public addresses only' },
        asn: { type: 'integer', minimum: 0, maximum: 4_294_967_295, description: 'autonomous system number; public addresses only' },
        as_org: { type: 'string', maxLength: 255, description: 'organisation of the autonomous system' },
      },
    },
    host: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { type: 'string', maxLength: 255, description: 'the name the hosts file knows the host by' },
        owner: { type: 'string', maxLength: 255 },
        role: { type: 'string', maxLength: 255 },
        groups: { type: 'array', maxItems: 64, items: { type: 'string', maxLength: 255 }, description: 'inventory groups of the host' },
      },
    },
  },
} as const;

export type Enrichment = FromSchema<typeof enrichmentSchema>;
export type IpEnrichment = NonNullable<Enrichment['ip']>;
export type HostEnrichment = NonNullable<Enrichment['host']>;

/**
 * The enrichment as flat labels for routes and silences: `enrichment.ip.country`,
 * `enrichment.ip.asn`, `enrichment.host.role`, ... (the same dotted names rules use;
 * LABEL_NAME_SYNTAX allows them). Lists (groups) are joined with commas.
 */
export function enrichmentLabels(enrichment: unknown): Record<string, string> {
  const labels: Record<string, string> = {};
  if (enrichment === null || typeof enrichment !== 'object') return labels;
  for (const part of ['ip', 'host'] as const) {
    const value = (enrichment as Record<string, unknown>)[part];
    if (value === null || typeof value !== 'object') continue;
    for (const [name, field] of Object.entries(value)) {
      const text = Array.isArray(field) ? field.filter((item) => typeof item === 'string').join(',') : typeof field === 'string' || typeof field === 'number' ? String(field) : '';
      if (text !== '') labels[`enrichment.${part}.${name}`] = text;
    }
  }
  return labels;
}
