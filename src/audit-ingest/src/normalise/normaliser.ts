import { randomUUID } from 'node:crypto';
import { type AuditEvent, DEFAULT_EVENT_TIME_BOUNDS, type EventTimeBounds, type SkewDirection, uuidV5, ValidationError, withBoundedTime } from '@auditflow/common';
import { buildEvent, type SourceMeta } from './event-builder.ts';
import { k8sAuditIdentity, mapK8sAudit } from './k8s-audit.ts';
import { mapProgramLine } from './linux-auth.ts';
import type { MapOutcome } from './mapped-record.ts';
import { parseSyslog, type SyslogMessage, SyslogParseError, type ZoneOffset } from './syslog-parser.ts';

/** A record that cannot become an event, and why; it is dead-lettered with exactly this. */
export interface DeadLetter {
  code: string;
  reason: string;
  raw: Buffer | string;
  meta: SourceMeta;
}

export type Normalised = { kind: 'event'; event: AuditEvent } | { kind: 'ignored'; why: string } | { kind: 'dead'; letter: DeadLetter };

export const DEAD_LETTER_CODES = {
  syslog: 'AF_INGEST_SYSLOG_UNPARSEABLE',
  utf8: 'AF_INGEST_INVALID_UTF8',
  json: 'AF_INGEST_INVALID_JSON',
  k8s: 'AF_INGEST_NOT_AN_AUDIT_EVENT',
  journald: 'AF_INGEST_NOT_A_JOURNAL_ENTRY',
  contract: 'AF_INGEST_CONTRACT',
  oversized: 'AF_INGEST_OVERSIZED',
} as const;

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface NormaliserOptions {
  /** server_hostname of Kubernetes audit events. */
  clusterName: string;
  zone: ZoneOffset;
  clock?: () => number;
  /** How far a record's own time may lie from its receive time (EVENT_MAX_*_SKEW_SECONDS). */
  timeBounds?: EventTimeBounds;
  /** Told of every event whose claimed time was replaced by its receive time. */
  onClockSkew?: (event: AuditEvent, direction: SkewDirection) => void;
}

/** Turns raw records of every source into contract events, ignored records or dead letters. */
export class Normaliser {
  readonly #clusterName: string;
  readonly #zone: ZoneOffset;
  readonly #clock: () => number;
  readonly #timeBounds: EventTimeBounds;
  readonly #onClockSkew: NormaliserOptions['onClockSkew'];

  constructor(options: NormaliserOptions) {
    this.#clusterName = options.clusterName;
    this.#zone = options.zone;
    this.#clock = options.clock ?? Date.now;
    this.#timeBounds = options.timeBounds ?? DEFAULT_EVENT_TIME_BOUNDS;
    this.#onClockSkew = options.onClockSkew;
  }

  /** One syslog message without its transport framing. */
  syslog(frame: Buffer, meta: SourceMeta): Normalised {
    let text: string;
    try {
      text = utf8.decode(frame);
    } catch {
      return dead(DEAD_LETTER_CODES.utf8, 'syslog message is not valid UTF-8', frame, meta);
    }
    const now = this.#clock();
    let message: SyslogMessage;
    try {
      message = parseSyslog(text, { now, zone: this.#zone });
    } catch (error) {
      if (error instanceof SyslogParseError) return dead(DEAD_LETTER_CODES.syslog, error.message, frame, meta);
      throw error;
    }
    const host = message.hostname ?? hostOf(meta.peer) ?? 'unknown';
    return this.#toEvent(mapProgramLine({ program: message.appName, message: message.message }), {
      eventId: randomUUID(),
      timestampMs: message.timestamp ?? now,
      sourceService: message.appName ?? 'syslog',
      host,
      program: message.appName,
      meta,
      original: text,
      raw: frame,
    });
  }

  /**
   * One journal entry as `journalctl -o json` (and systemd-journal-upload's
   * JSON, Vector's and Fluent Bit's journald inputs) writes it: MESSAGE,
   * SYSLOG_IDENTIFIER, _HOSTNAME, __REALTIME_TIMESTAMP in microseconds,
   * __CURSOR. The cursor makes the event id stable, so a resent entry is the
   * same event.
   */
  journald(entry: unknown, raw: string, meta: SourceMeta): Normalised {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      return dead(DEAD_LETTER_CODES.journald, 'journal entry is not a JSON object', raw, meta);
    }
    const fields = entry as Record<string, unknown>;
    const message = fields['MESSAGE'] ?? fields['message'];
    if (typeof message !== 'string') {
      return dead(DEAD_LETTER_CODES.journald, 'journal entry has no MESSAGE string (binary messages are not supported)', raw, meta);
    }
    const program = stringField(fields, 'SYSLOG_IDENTIFIER', '_COMM', 'appname');
    const host = stringField(fields, '_HOSTNAME', 'host', 'hostname') ?? hostOf(meta.peer) ?? 'unknown';
    const micros = Number(fields['__REALTIME_TIMESTAMP']);
    const isoTime = typeof fields['timestamp'] === 'string' ? Date.parse(fields['timestamp']) : Number.NaN;
    const timestampMs = Number.isFinite(micros) && micros > 0 ? Math.floor(micros / 1000) : Number.isFinite(isoTime) ? isoTime : this.#clock();
    const cursor = stringField(fields, '__CURSOR');
    return this.#toEvent(mapProgramLine({ program, message }), {
      eventId: cursor ? uuidV5(`journald|${host}|${cursor}`) : randomUUID(),
      timestampMs,
      sourceService: program ?? 'journald',
      host,
      program,
      meta,
      original: fields,
      raw,
    });
  }

  /**
   * One `audit.k8s.io/v1` Event. Its id derives from auditID and stage, so the
   * API server's webhook retrying a batch never counts a request twice.
   */
  k8sAudit(event: unknown, raw: string | undefined, meta: SourceMeta): Normalised {
    const identity = k8sAuditIdentity(event);
    if (typeof identity === 'string') return dead(DEAD_LETTER_CODES.k8s, identity, raw ?? JSON.stringify(event) ?? '', meta);
    const object = event as Record<string, unknown>;
    return this.#toEvent(mapK8sAudit(object, identity), {
      eventId: uuidV5(`k8s-audit|${identity.auditId}|${identity.stage}`),
      timestampMs: identity.timestampMs,
      sourceService: 'kube-apiserver',
      host: this.#clusterName,
      program: undefined,
      meta,
      original: object,
      raw: raw ?? JSON.stringify(event),
    });
  }

  #toEvent(
    outcome: MapOutcome,
    input: {
      eventId: string;
      timestampMs: number;
      sourceService: string;
      host: string;
      program: string | undefined;
      meta: SourceMeta;
      original: string | Record<string, unknown>;
      raw: Buffer | string;
    },
  ): Normalised {
    if (outcome.kind === 'ignored') return outcome;
    if (outcome.kind === 'invalid') return dead(DEAD_LETTER_CODES.contract, outcome.message, input.raw, input.meta);
    try {
      const built = buildEvent({ ...input, record: outcome.record });
      // The sender's claim of time is bounded by when it was received here; the claim is kept in clock_skew.
      const bounded = withBoundedTime(built, Date.parse(built.timestamp), this.#clock(), this.#timeBounds);
      if (bounded.skew !== undefined) this.#onClockSkew?.(bounded.event, bounded.skew);
      return { kind: 'event', event: bounded.event };
    } catch (error) {
      if (error instanceof ValidationError) return dead(DEAD_LETTER_CODES.contract, error.message, input.raw, input.meta);
      throw error;
    }
  }
}

export function dead(code: string, reason: string, raw: Buffer | string, meta: SourceMeta): Normalised {
  return { kind: 'dead', letter: { code, reason, raw, meta } };
}

function stringField(fields: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = fields[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** `10.0.0.5:514` or `[fd00::1]:514` → the address. */
function hostOf(peer: string | undefined): string | undefined {
  if (!peer) return undefined;
  const bracket = /^\[([^\]]+)\]/.exec(peer);
  if (bracket) return bracket[1];
  const colon = peer.lastIndexOf(':');
  return colon > 0 ? peer.slice(0, colon) : peer;
}
