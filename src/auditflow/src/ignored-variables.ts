import type { Env } from '@auditflow/common';

/**
 * Per-service variables the all-in-one runner sets itself, because the five
 * services' cluster defaults clash in one process (8000 twice). Each maps to
 * what to set instead.
 */
const OVERRIDDEN: Record<string, string> = {
  APP_PORT: 'DASHBOARD_PORT, GENERATOR_PORT, ANALYSIS_PORT or INGEST_PORT',
  PROMETHEUS_PORT: 'GENERATOR_METRICS_PORT, ANALYSIS_METRICS_PORT or INGEST_METRICS_PORT',
  API_PORT: 'NOTIFICATION_PORT',
  API_HOST: 'BIND_HOST',
  NOTIFICATION_SERVICE_URL: 'nothing: the dashboard uses the notification API of this process',
  NOTIFICATION_SERVICE_HOST: 'nothing: the dashboard uses the notification API of this process',
  NOTIFICATION_SERVICE_PORT: 'NOTIFICATION_PORT',
};

/** One warning line per set variable that `auditflow start` (all-in-one) would otherwise ignore silently. */
export function ignoredVariableWarnings(env: Env): string[] {
  return Object.entries(OVERRIDDEN)
    .filter(([name]) => (env[name] ?? '').trim() !== '')
    .map(([name, instead]) => `${name} is ignored by the all-in-one start; set ${instead}`);
}
