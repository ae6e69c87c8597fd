import { createHash } from 'node:crypto';

/**
 * RFC 4122 version-5 UUID: the same name always gives the same id, which is
 * what makes alert ids stable across redeliveries and replicas.
 */
export function uuidV5(name: string, namespace: string = AUDITFLOW_NAMESPACE): string {
  // Every alert version derives its id, so the default namespace's bytes are parsed once.
  const ns = namespace === AUDITFLOW_NAMESPACE ? DEFAULT_NAMESPACE_BYTES : namespaceBytes(namespace);
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Fixed namespace of AuditFlow's derived ids; changing it would change every alert id. */
export const AUDITFLOW_NAMESPACE = '6f1d3c2e-9a4b-5c7d-8e0f-a1b2c3d4e5f6';

function namespaceBytes(namespace: string): Buffer {
  return Buffer.from(namespace.replace(/-/g, ''), 'hex');
}

const DEFAULT_NAMESPACE_BYTES = namespaceBytes(AUDITFLOW_NAMESPACE);

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * Any hex UUID layout, case-insensitive: ids from other producers (the original's uuid4,
 * hand-made fixtures) are accepted as identifiers. The source is a JSON Schema `pattern`
 * (no regex flags there), so schemas and code share the one spelling.
 */
export const UUID_SYNTAX = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
export const ANY_UUID = new RegExp(UUID_SYNTAX);
