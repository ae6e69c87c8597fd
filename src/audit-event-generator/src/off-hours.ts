import { WORKING_HOURS_UTC } from './catalog.ts';
import { type Random, randomInt } from './random.ts';

/**
 * An hour away from the 08:00–18:00 UTC boundaries, so a rule that treats
 * 18:00 (or 07:59) either way, or allows a little clock skew, still sees the
 * instant as off-hours.
 */
export function isSafelyOffHours(date: Date): boolean {
  const hour = date.getUTCHours();
  return hour < WORKING_HOURS_UTC.start - 1 || hour >= WORKING_HOURS_UTC.end + 1;
}

/**
 * `now` itself when it is clearly off-hours; otherwise a moment in the most
 * recent 02:00–05:00 UTC night before it (today's, since `now` is later in the day).
 */
export function offHoursInstant(now: Date, random: Random): Date {
  if (isSafelyOffHours(now)) return now;
  const night = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 2, 0, 0, 0);
  // Whole seconds inside [02:00:00, 04:59:59]: never touches 05:00 and is always before now (>= 07:00).
  return new Date(night + randomInt(random, 0, 3 * 3600 - 1) * 1000);
}

/** Relative activity of the simulated organisation at a given instant (1 = working hours). */
export function activityFactor(date: Date): number {
  const hour = date.getUTCHours();
  if (hour >= WORKING_HOURS_UTC.start && hour < WORKING_HOURS_UTC.end) return 1;
  // Shoulders around the working day, then a quiet night of backups, cron and monitoring.
  if (hour === WORKING_HOURS_UTC.start - 1 || hour === WORKING_HOURS_UTC.end) return 0.6;
  return 0.35;
}
