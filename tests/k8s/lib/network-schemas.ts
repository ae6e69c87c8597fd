// Schemas of the lab network's custom resources (docs/network.md).
//
// MetalLB's IPAddressPool and L2Advertisement are written from MetalLB's documented API
// (metallb.io/v1beta1, https://metallb.universe.tf/apis/) and closed at every level, so a
// misspelt field fails. cert-manager's and Traefik's resources are validated by the generated
// models of their CRDs (@kubernetes-models/cert-manager, @kubernetes-models/traefik).

const str = { type: 'string', minLength: 1 };
const strings = { type: 'array', items: str };
const labels = { type: 'object', additionalProperties: { type: 'string' } };
const metadata = {
  type: 'object',
  required: ['name', 'namespace'],
  additionalProperties: false,
  properties: { name: str, namespace: str, labels, annotations: labels },
};
const selector = {
  type: 'object',
  additionalProperties: false,
  properties: {
    matchLabels: labels,
    matchExpressions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        additionalProperties: false,
        properties: { key: str, operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }, values: strings },
      },
    },
  },
};
const resource = (kind: string, spec: object) => ({
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  additionalProperties: false,
  properties: { apiVersion: { const: 'metallb.io/v1beta1' }, kind: { const: kind }, metadata, spec },
});

// An address range (a-b) or a CIDR, IPv4 or IPv6, as MetalLB's pool accepts them.
const addressRange = { type: 'string', pattern: '^[0-9a-fA-F:.]+(/[0-9]{1,3}|-[0-9a-fA-F:.]+)$' };

export const metallbSchemas: Record<string, object> = {
  'metallb.io/v1beta1/IPAddressPool': resource('IPAddressPool', {
    type: 'object',
    required: ['addresses'],
    additionalProperties: false,
    properties: {
      addresses: { type: 'array', minItems: 1, items: addressRange },
      autoAssign: { type: 'boolean' },
      avoidBuggyIPs: { type: 'boolean' },
      serviceAllocation: {
        type: 'object',
        additionalProperties: false,
        properties: {
          priority: { type: 'integer' },
          namespaces: strings,
          namespaceSelectors: { type: 'array', items: selector },
          serviceSelectors: { type: 'array', items: selector },
        },
      },
    },
  }),
  'metallb.io/v1beta1/L2Advertisement': resource('L2Advertisement', {
    type: 'object',
    additionalProperties: false,
    properties: {
      ipAddressPools: strings,
      ipAddressPoolSelectors: { type: 'array', items: selector },
      nodeSelectors: { type: 'array', items: selector },
      interfaces: strings,
    },
  }),
};

/** The CRD model module of a cert-manager or Traefik apiVersion, or undefined for other groups. */
export function crdModelModule(apiVersion: string): string | undefined {
  if (apiVersion === 'cert-manager.io/v1') return '@kubernetes-models/cert-manager/cert-manager.io/v1';
  if (apiVersion === 'traefik.io/v1alpha1') return '@kubernetes-models/traefik/traefik.io/v1alpha1';
  return undefined;
}
