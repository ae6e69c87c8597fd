/**
 * The one home of every service's memory limit: the chart's
 * `resources.limits.memory` of each subchart and the budget a service sizes
 * itself for when no cgroup limit is found (a laptop, `npm start`) are both
 * this table. A test (tests/memory-limits.test.ts) fails when a subchart's
 * values.yaml disagrees with it.
 */
export const SERVICE_MEMORY_LIMIT_MIB = {
  'audit-event-generator': 160,
  'audit-log-analysis': 256,
  'notification-service': 256,
  'event-audit-dashboard': 160,
  'audit-ingest': 192,
  /** The all-in-one `npm start` / `auditflow start`: every service in one process. */
  auditflow: 256,
} as const;

export type MemoryProfileName = keyof typeof SERVICE_MEMORY_LIMIT_MIB;

export function isMemoryProfileName(name: string): name is MemoryProfileName {
  return Object.hasOwn(SERVICE_MEMORY_LIMIT_MIB, name);
}
