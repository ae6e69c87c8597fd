import { defineEnv } from '@auditflow/common/platform';

/**
 * The all-in-one's own variables: one port per listener of the five services (their cluster
 * defaults clash, 8000 twice), and the address they bind. docs/configuration.md, `auditflow help`
 * and the start-up port check are generated from this.
 */
export const ALL_IN_ONE_ENV = defineEnv({
  DASHBOARD_PORT: { type: 'port', default: 8080, description: 'dashboard; `0` picks a free port (the same for every port below)' },
  NOTIFICATION_PORT: { type: 'port', default: 8000, description: 'notification REST API, `/openapi.json`, `/metrics`' },
  GENERATOR_PORT: { type: 'port', default: 5000, description: 'generator API' },
  GENERATOR_METRICS_PORT: { type: 'port', default: 8002, description: 'generator `/metrics`' },
  ANALYSIS_PORT: { type: 'port', default: 5001, description: 'analysis API' },
  ANALYSIS_METRICS_PORT: { type: 'port', default: 8001, description: 'analysis `/metrics`' },
  INGEST_PORT: { type: 'port', default: 5002, description: 'audit-ingest webhook and JSON-lines API' },
  INGEST_METRICS_PORT: { type: 'port', default: 8003, description: 'audit-ingest `/metrics`' },
  SYSLOG_PORT: { type: 'port', default: 5514, udp: true, description: 'audit-ingest syslog listener' },
  BIND_HOST: { type: 'string', default: '127.0.0.1', description: 'the address every listener binds' },
});

/** The help text's port lines: `NAME default` pairs, wrapped. */
export function portSummary(indent = '  ', width = 100): string {
  const items = Object.entries(ALL_IN_ONE_ENV).map(([name, variable]) => `${name} ${String(variable.default)}`);
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    const next = line === '' ? item : `${line}, ${item}`;
    if (indent.length + next.length > width && line !== '') {
      lines.push(`${indent}${line},`);
      line = item;
    } else line = next;
  }
  lines.push(`${indent}${line}`);
  return lines.join('\n');
}
