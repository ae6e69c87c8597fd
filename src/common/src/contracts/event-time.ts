import type { EnvReader } from '../config.ts';
import type { AuditEvent } from './audit-event.ts';

/**
 * How far an event's claimed time may lie from the moment it was received.
 * A sender controls the time it claims: unbounded, one forged line stamped a
 * year ahead would move every window, episode and watermark of its scope a
 * year ahead and blind detection for it.
 */
export interface EventTimeBounds {
  maxFutureSkewMs: number;
  maxPastSkewMs: number;
}

export const DEFAULT_EVENT_TIME_BOUNDS: EventTimeBounds = { maxFutureSkewMs: 60_000, maxPastSkewMs: 7 * 86_400_000 };

/** EVENT_MAX_FUTURE_SKEW_SECONDS and EVENT_MAX_PAST_SKEW_SECONDS, declared once for every service that receives events. */
export function readEventTimeBounds(reader: EnvReader): EventTimeBounds {
  return {
    maxFutureSkewMs: reader.int('EVENT_MAX_FUTURE_SKEW_SECONDS', DEFAULT_EVENT_TIME_BOUNDS.maxFutureSkewMs / 1000, { min: 0, max: 86_400 }) * 1000,
    maxPastSkewMs: reader.int('EVENT_MAX_PAST_SKEW_SECONDS', DEFAULT_EVENT_TIME_BOUNDS.maxPastSkewMs / 1000, { min: 60, max: 31_622_400 }) * 1000,
  };
}

export type SkewDirection = 'future' | 'past';

export interface BoundedTime {
  /** The time to use: the claimed one when within bounds, the receive time otherwise. */
  ts: number;
  /** Set when the claimed time was out of bounds. */
  skew?: SkewDirection;
}

/** Bounds a claimed time against the receive time; `past` may be Infinity to bound the future only. */
export function boundEventTime(claimedMs: number, receivedMs: number, bounds: EventTimeBounds): BoundedTime {
  if (claimedMs > receivedMs + bounds.maxFutureSkewMs) return { ts: receivedMs, skew: 'future' };
  if (claimedMs < receivedMs - bounds.maxPastSkewMs) return { ts: receivedMs, skew: 'past' };
  return { ts: claimedMs };
}

/**
 * The event with its time bounded: unchanged when the claimed time is within
 * bounds; otherwise `timestamp` is the receive time and `clock_skew` keeps what
 * was claimed (a rule alerts on it). An event already adjusted upstream keeps
 * its first record of the claim.
 */
export function withBoundedTime<E extends AuditEvent>(event: E, claimedMs: number, receivedMs: number, bounds: EventTimeBounds): { event: E; skew?: SkewDirection } {
  const bounded = boundEventTime(claimedMs, receivedMs, bounds);
  if (bounded.skew === undefined) return { event };
  const adjusted = {
    ...event,
    timestamp: new Date(bounded.ts).toISOString(),
    clock_skew: event.clock_skew ?? {
      claimed_timestamp: event.timestamp,
      direction: bounded.skew,
      skew_seconds: Math.round((claimedMs - receivedMs) / 1000),
    },
  };
  return { event: adjusted, skew: bounded.skew };
}
