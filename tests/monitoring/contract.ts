// The metric contract of docs/observability.md, read from the document itself
// so that the monitoring files cannot drift from what the services export.
import { readFileSync } from 'node:fs';
import { labelNames, labelReplaceTargets, metricNames } from './promql.ts';

export interface DocumentedMetric {
  type: string;
  labels: Set<string>;
}

/** Labels Prometheus attaches at scrape time (see monitoring/prometheus/prometheus.yaml). */
export const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'node', 'service']);

/** Labels of rabbitmq_prometheus per-object metrics the monitoring files use. */
const RABBITMQ_LABELS = new Set(['queue', 'vhost', 'protocol']);

const HISTOGRAM_SUFFIXES = ['_bucket', '_count', '_sum'];

export function readObservabilityContract(path: string): Map<string, DocumentedMetric> {
  const text = readFileSync(path, 'utf8');
  const metrics = new Map<string, DocumentedMetric>();
  for (const line of text.split('\n')) {
    const row = /^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*([a-z]+)\s*\|(.*)\|\s*$/.exec(line);
    if (row === null) continue;
    const [, name = '', type = '', labelCell = ''] = row;
    const labels = new Set([...labelCell.matchAll(/`([a-z_][a-z0-9_]*)`/g)].map((m) => m[1] ?? ''));
    metrics.set(name, { type, labels });
  }
  // Metrics documented in prose, e.g. `http_request_duration_seconds{method,route,status_code}` (histogram).
  for (const match of text.matchAll(/`([a-z_:][a-z0-9_:]*)\{([a-z_,\s]*)\}`\s*\((\w+)\)/g)) {
    const [, name = '', labelList = '', type = ''] = match;
    const labels = new Set(
      labelList
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    );
    metrics.set(name, { type, labels });
  }
  return metrics;
}

/** Why a metric name is not allowed, or null when it is. */
export function disallowedMetric(
  name: string,
  contract: Map<string, DocumentedMetric>,
  extraAllowed: ReadonlySet<string> = new Set(),
): string | null {
  if (name === 'up' || extraAllowed.has(name)) return null;
  // prom-client's default metrics and the rabbitmq_prometheus plugin.
  if (/^(process|nodejs)_/.test(name) || name.startsWith('rabbitmq_')) return null;
  if (contract.has(name)) return null;
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (!name.endsWith(suffix)) continue;
    const base = contract.get(name.slice(0, -suffix.length));
    if (base?.type === 'histogram') return null;
    if (base !== undefined) return `${name}: ${name.slice(0, -suffix.length)} is a ${base.type}, not a histogram`;
  }
  return `${name} is not documented in docs/observability.md`;
}

function documentedLabelsOf(name: string, contract: Map<string, DocumentedMetric>): Set<string> {
  const direct = contract.get(name);
  if (direct !== undefined) return direct.labels;
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (name.endsWith(suffix)) {
      const base = contract.get(name.slice(0, -suffix.length));
      if (base !== undefined) return new Set([...base.labels, ...(suffix === '_bucket' ? ['le'] : [])]);
    }
  }
  return new Set();
}

/**
 * Every problem with the names an expression uses: undocumented metrics, and
 * labels that none of its metrics carry. Labels of recorded series
 * (`extraLabels`) and of label_replace are accepted.
 */
export function expressionProblems(
  expr: string,
  contract: Map<string, DocumentedMetric>,
  extraMetrics: ReadonlySet<string> = new Set(),
  extraLabels: ReadonlySet<string> = new Set(),
): string[] {
  const problems: string[] = [];
  const metrics = metricNames(expr);
  if (metrics.length === 0) problems.push(`no metric found in ${expr}`);
  const allowedLabels = new Set([...TARGET_LABELS, ...extraLabels, ...labelReplaceTargets(expr)]);
  for (const metric of metrics) {
    const reason = disallowedMetric(metric, contract, extraMetrics);
    if (reason !== null) problems.push(reason);
    for (const label of documentedLabelsOf(metric, contract)) allowedLabels.add(label);
    if (metric.startsWith('rabbitmq_')) for (const label of RABBITMQ_LABELS) allowedLabels.add(label);
  }
  if (metrics.some((m) => m.endsWith('_bucket'))) allowedLabels.add('le');
  for (const label of labelNames(expr)) {
    if (label === '__name__') continue;
    if (!allowedLabels.has(label)) problems.push(`label ${label} is not carried by ${metrics.join(', ')}`);
  }
  return problems;
}
