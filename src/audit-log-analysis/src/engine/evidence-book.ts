import { type Alert, type AuditEvent, eventClientIp, eventResource } from '@auditflow/common';

/** The bounded evidence of an alert (alert.evidence): the earliest and the latest events with the total they stand for. */
export type Evidence = NonNullable<Alert['evidence']>;
/** What an alert keeps of one event that made it: enough to read a timeline, never the whole record. */
export type EvidenceEvent = Evidence['first'][number];

export interface EvidenceBookOptions {
  /** Summaries of matched events kept, newest kept, oldest dropped. @default 20000 */
  maxEvents?: number;
  /** Alerts whose latest events are tracked. @default 5000 */
  maxAlerts?: number;
  /** Events on each side (first, last). @default 5 */
  perSide?: number;
}

const clip = (value: string | undefined, max: number): string | undefined => (value === undefined ? undefined : value.slice(0, max));

export function summariseEvent(event: AuditEvent): EvidenceEvent {
  const ip = clip(eventClientIp(event), 64);
  const resource = clip(eventResource(event), 255);
  return {
    event_id: event.event_id,
    timestamp: event.timestamp,
    event_type: event.event_type.slice(0, 128),
    user_id: event.user_id.slice(0, 255),
    server_hostname: event.server_hostname.slice(0, 255),
    action_result: event.action_result.slice(0, 64),
    severity: event.severity.slice(0, 32),
    ...(ip === undefined ? {} : { ip_address: ip }),
    ...(resource === undefined ? {} : { resource }),
    ...(event.source === undefined ? {} : { origin: event.source.kind }),
  };
}

/**
 * Keeps, in this process and within fixed bounds, the summaries of the events
 * rules matched and the latest events folded into each alert, so a published
 * alert carries the events that made it. The window store holds the member
 * ids (the alert's event_ids are the earliest); this book turns them back into
 * events. It is a bounded cache, not a second store: after a restart the
 * earliest members of an old episode may be unknown, and the alert says how
 * many (`unresolved`) instead of pretending.
 */
export class EvidenceBook {
  readonly #events = new Map<string, EvidenceEvent>();
  readonly #latest = new Map<string, EvidenceEvent[]>();
  readonly #maxEvents: number;
  readonly #maxAlerts: number;
  readonly #perSide: number;

  constructor(options: EvidenceBookOptions = {}) {
    this.#maxEvents = options.maxEvents ?? 20_000;
    this.#maxAlerts = options.maxAlerts ?? 5_000;
    this.#perSide = options.perSide ?? 5;
  }

  /** An event matched a rule: it may become a member of an alert, now or when a window fires later. */
  remember(event: AuditEvent): void {
    if (this.#events.has(event.event_id)) return;
    this.#events.set(event.event_id, summariseEvent(event));
    if (this.#events.size > this.#maxEvents) this.#events.delete(this.#events.keys().next().value!);
  }

  /** An event was folded into the alert (every version, including those a newer one replaces before publishing). */
  folded(alertId: string, event: AuditEvent): void {
    let latest = this.#latest.get(alertId);
    if (latest === undefined) {
      latest = [];
      if (this.#latest.size >= this.#maxAlerts) this.#latest.delete(this.#latest.keys().next().value!);
    } else this.#latest.delete(alertId);
    this.#latest.set(alertId, latest);
    if (latest.some((entry) => entry.event_id === event.event_id)) return;
    latest.push(summariseEvent(event));
    latest.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
    if (latest.length > this.#perSide) latest.splice(0, latest.length - this.#perSide);
  }

  evidenceOf(alert: Alert): Evidence & { unresolved: number } {
    const total = alert.count ?? 1;
    const ids = (alert.event_ids ?? []).slice(0, this.#perSide);
    const first: EvidenceEvent[] = [];
    let unresolved = 0;
    for (const id of ids) {
      const found = this.#events.get(id);
      if (found) first.push(found);
      else unresolved++;
    }
    const shown = new Set(first.map((entry) => entry.event_id));
    // When the whole episode fits in "first", "last" repeats nothing.
    const last = (this.#latest.get(alert.alert_id) ?? []).filter((entry) => !shown.has(entry.event_id));
    return { total, first, last, unresolved };
  }

  /** The alert with its evidence attached (a new object: the built alert may be shared). */
  attach(alert: Alert): Alert {
    return { ...alert, evidence: this.evidenceOf(alert) };
  }
}
