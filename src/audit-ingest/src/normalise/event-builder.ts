import { type AuditEvent, assertAuditEvent, MAX_EVENT_BYTES, ValidationError } from '@auditflow/common';
import type { MappedRecord } from './mapped-record.ts';

export type SourceKind = 'syslog' | 'journald' | 'k8s_audit';

export interface SourceMeta {
  kind: SourceKind;
  /** tcp, tls, udp, http, https. */
  transport: string;
  /** Address of the sender, `ip:port`. */
  peer: string | undefined;
}

export interface BuildInput {
  eventId: string;
  timestampMs: number;
  sourceService: string;
  host: string;
  program?: string | undefined;
  record: MappedRecord;
  meta: SourceMeta;
  original: string | Record<string, unknown>;
}

/** Room left for everything but `source.original`, so an event never reaches analysis' size limit. */
const ORIGINAL_BUDGET = MAX_EVENT_BYTES - 16 * 1024;

/**
 * The contract event for one mapped record, with the `source` block that
 * keeps the record as received. An original too large for the event size
 * limit is shortened (the request and response bodies of an audit event go
 * first) and flagged `truncated`. Throws ValidationError when the result is
 * not a valid event (e.g. a user name longer than the contract allows).
 */
export function buildEvent(input: BuildInput): AuditEvent {
  const { record, meta } = input;
  const original = fitOriginal(input.original);
  const candidate = {
    event_id: input.eventId,
    timestamp: new Date(record.timestampMs ?? input.timestampMs).toISOString(),
    source_service: clip(input.sourceService, 255),
    server_hostname: clip(input.host, 255),
    event_type: record.event_type,
    severity: record.severity,
    user_id: record.user_id,
    action_result: record.action_result,
    details: record.details,
    source: {
      kind: meta.kind,
      host: clip(input.host, 255),
      transport: meta.transport,
      ...(meta.peer ? { peer: meta.peer } : {}),
      ...(input.program ? { program: clip(input.program, 128) } : {}),
      original: original.value,
      ...(original.truncated ? { truncated: true } : {}),
    },
  };
  const clean = withoutNul(candidate);
  // A NUL (e.g. in a syslog user name) would make every alert on the event unstorable: removed, and recorded.
  return assertAuditEvent(clean === candidate ? candidate : { ...clean, source: { ...clean.source, sanitised: true } });
}

/** The value with every NUL removed from its strings and keys; the same object when there was none. */
function withoutNul<T>(value: T): T {
  if (typeof value === 'string') return (value.includes('\u0000') ? value.replaceAll('\u0000', '') : value) as T;
  if (Array.isArray(value)) {
    const items = value.map(withoutNul);
    return (items.some((item, index) => item !== value[index]) ? items : value) as T;
  }
  if (value === null || typeof value !== 'object') return value;
  let changed = false;
  const entries = Object.entries(value).map(([key, item]) => {
    const cleanKey = withoutNul(key);
    const cleanItem = withoutNul(item);
    if (cleanKey !== key || cleanItem !== item) changed = true;
    return [cleanKey, cleanItem] as const;
  });
  return (changed ? Object.fromEntries(entries) : value) as T;
}

function clip(value: string, max: number): string {
  return value.length > max ? value.slice(0, max) : value;
}

function fitOriginal(original: string | Record<string, unknown>): { value: string | Record<string, unknown>; truncated: boolean } {
  if (typeof original === 'string') {
    if (Buffer.byteLength(original) <= ORIGINAL_BUDGET) return { value: original, truncated: false };
    return { value: Buffer.from(original).subarray(0, ORIGINAL_BUDGET).toString('utf8'), truncated: true };
  }
  if (Buffer.byteLength(JSON.stringify(original)) <= ORIGINAL_BUDGET) return { value: original, truncated: false };
  const { requestObject: _request, responseObject: _response, ...rest } = original;
  if (Buffer.byteLength(JSON.stringify(rest)) <= ORIGINAL_BUDGET) return { value: rest, truncated: true };
  return { value: JSON.stringify(rest).slice(0, ORIGINAL_BUDGET / 2), truncated: true };
}

export { ValidationError };
