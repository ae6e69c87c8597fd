import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { readCgroupMemoryLimit } from './memory/cgroup-limit.ts';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The text exposition format Prometheus expects (the original served text/html). */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * One registry per service instance, never the prom-client global one, so
 * the all-in-one mode can host five services in one process without clashes.
 * Beside the process metrics it exports the memory limit of the process's
 * cgroup, so the memory alert can compare resident memory with each pod's own
 * limit; with no limit (a laptop) the series is absent and the alert quiet.
 */
export function createRegistry(
  service: string,
  options: { defaultMetrics?: boolean; memoryLimitBytes?: () => number | undefined } = {},
): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    const limit = (options.memoryLimitBytes ?? cgroupLimitAtStart)();
    if (limit !== undefined) {
      new Gauge({ name: 'auditflow_memory_limit_bytes', help: 'Memory limit of the cgroup the process runs in (the pod limit), read at start', registers: [registry] }).set(limit);
    }
  }
  return registry;
}

let limitAtStart: { bytes: number | undefined } | undefined;

/** Read once per process: the all-in-one creates a registry per service, and the gauge is "read at start" anyway. */
function cgroupLimitAtStart(): number | undefined {
  limitAtStart ??= { bytes: readCgroupMemoryLimit()?.bytes };
  return limitAtStart.bytes;
}
