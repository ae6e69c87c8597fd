import type { AuditEvent } from '@auditflow/common';

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/**
 * Local hour and weekday of an instant in one time zone. One formatter per
 * zone is built once; rules that never use derived fields never pay for it.
 */
export class EventClock {
  readonly timeZone: string;
  readonly #format: Intl.DateTimeFormat;
  #bucket = Number.NaN;
  #cached: { hour: number; weekday: string } = { hour: 0, weekday: '' };

  constructor(timeZone: string) {
    this.timeZone = timeZone;
    this.#format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: 'numeric', weekday: 'long' });
  }

  parts(ms: number): { hour: number; weekday: string } {
    // Every zone offset is a multiple of 15 minutes, so hour and weekday are constant within
    // a 15-minute bucket; events mostly arrive in time order, so one cached bucket suffices.
    const bucket = Math.floor(ms / 900_000);
    if (bucket === this.#bucket) return this.#cached;
    let hour = 0;
    let weekday = '';
    for (const part of this.#format.formatToParts(ms)) {
      if (part.type === 'hour') hour = Number(part.value) % 24;
      else if (part.type === 'weekday') weekday = part.value.toLowerCase();
    }
    this.#bucket = bucket;
    this.#cached = { hour, weekday };
    return this.#cached;
  }
}

/** Throws a RangeError when the zone is unknown to the runtime. */
export function assertTimeZone(timeZone: string): void {
  new Intl.DateTimeFormat('en-US', { timeZone });
}

/** One decoded event plus its parsed time; derived fields are computed on first use. */
export class EventContext {
  readonly event: AuditEvent;
  /** Event time in epoch milliseconds. */
  readonly ts: number;
  readonly #clock: EventClock;
  #local: { hour: number; weekday: string } | undefined;

  constructor(event: AuditEvent, ts: number, clock: EventClock) {
    this.event = event;
    this.ts = ts;
    this.#clock = clock;
  }

  /** Value at a compiled field path; undefined when any segment is missing. */
  get(path: readonly string[]): unknown {
    if (path[0] === 'event_time' && path.length === 2) {
      this.#local ??= this.#clock.parts(this.ts);
      if (path[1] === 'hour') return this.#local.hour;
      if (path[1] === 'weekday') return this.#local.weekday;
    }
    let value: unknown = this.event;
    for (const segment of path) {
      if (value === null || typeof value !== 'object') return undefined;
      value = (value as Record<string, unknown>)[segment];
    }
    return value;
  }
}

export { WEEKDAYS };
