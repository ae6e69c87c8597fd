// Checks of everything under monitoring/: the Prometheus rules and their unit
// tests, the scrape config, the Alertmanager config, the Grafana dashboard
// and its generated ConfigMap. External tools (promtool, amtool) come from
// scripts/install-test-tools.sh.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { expressionProblems, readObservabilityContract } from './contract.ts';
import { labelNames, metricNames } from './promql.ts';
import { createRegistry } from '../../src/common/src/metrics.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const monitoringDir = join(repoRoot, 'monitoring');
const prometheusDir = join(monitoringDir, 'prometheus');
const rulesDir = join(prometheusDir, 'rules');
const promtoolTestsDir = join(prometheusDir, 'tests');
const alertsFile = join(rulesDir, 'auditflow-alerts.yaml');
const recordingFile = join(rulesDir, 'auditflow-recording.yaml');
const prometheusConfigFile = join(prometheusDir, 'prometheus.yaml');
const alertmanagerFile = join(monitoringDir, 'alertmanager/alertmanager.yaml');
const dashboardsDir = join(monitoringDir, 'grafana/dashboards');
const dashboardFile = join(dashboardsDir, 'auditflow-overview.json');
const configMapFile = join(monitoringDir, 'kubernetes/grafana-dashboard-configmap.yaml');
const syncScript = join(repoRoot, 'scripts/sync-grafana-configmap.mjs');
const runbooksFile = join(repoRoot, 'docs/runbooks.md');
const contract = readObservabilityContract(join(repoRoot, 'docs/observability.md'));

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
const DATASOURCE_VARIABLE = '${datasource}';
const APP_JOBS = ['audit-event-generator', 'audit-log-analysis', 'notification-service', 'event-audit-dashboard', 'audit-ingest'];
const SEVERITIES = new Set(['critical', 'warning']);
const CATEGORIES = new Set(['availability', 'dependency', 'pipeline', 'resources', 'broker', 'security']);

interface RuleDefinition {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleGroup {
  name: string;
  rules: RuleDefinition[];
}

function readYaml<T>(path: string): T {
  return parseYaml(readFileSync(path, 'utf8')) as T;
}

function run(command: string, args: string[], cwd = repoRoot) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (result.error !== undefined) {
    const hint = (result.error as NodeJS.ErrnoException).code === 'ENOENT' ? ' (run scripts/install-test-tools.sh)' : '';
    throw new Error(`cannot run ${command}${hint}: ${result.error.message}`);
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A TCP port that was free a moment ago (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolvePort(address.port) : reject()));
    });
  });
}

function tempDir(t: { after: (fn: () => void) => void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const alertGroups = readYaml<{ groups: RuleGroup[] }>(alertsFile).groups;
const alertRules = alertGroups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
const recordingRules = readYaml<{ groups: RuleGroup[] }>(recordingFile)
  .groups.flatMap((g) => g.rules)
  .filter((r) => r.record !== undefined);
const recordedNames = new Set(recordingRules.map((r) => r.record as string));
// Labels a recorded series keeps: those of its `by` clause.
const recordedLabels = new Set(recordingRules.flatMap((r) => labelNames(r.expr)));

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

describe('Prometheus rules', () => {
  test('promtool check rules accepts both rule files', () => {
    const { status, output } = run('promtool', ['check', 'rules', alertsFile, recordingFile]);
    assert.equal(status, 0, output);
    assert.match(output, new RegExp(`SUCCESS: ${alertRules.length} rules found`));
  });

  test('promtool test rules passes every unit test file', () => {
    const files = readdirSync(promtoolTestsDir)
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => join(promtoolTestsDir, f));
    assert.ok(files.length > 0);
    const { status, output } = run('promtool', ['test', 'rules', ...files], promtoolTestsDir);
    assert.equal(status, 0, output);
  });

  test('the unit tests fail when an alert threshold changes', (t) => {
    // Proves the promtool tests pin behaviour: a looser share of the pod's
    // memory limit must make the AuditFlowHighMemory case fail.
    const dir = tempDir(t, 'auditflow-rules-');
    cpSync(rulesDir, join(dir, 'rules'), { recursive: true });
    cpSync(promtoolTestsDir, join(dir, 'tests'), { recursive: true });
    const mutated = join(dir, 'rules/auditflow-alerts.yaml');
    const original = readFileSync(mutated, 'utf8');
    const loosened = original.replace(/(\/ auditflow_memory_limit_bytes\{[^}]*\}\s*)> 0\.9\n/, '$1> 0.95\n');
    assert.notEqual(loosened, original, 'memory threshold not found in the rules');
    writeFileSync(mutated, loosened);
    const { status, output } = run('promtool', ['test', 'rules', join(dir, 'tests/resources.yaml')], join(dir, 'tests'));
    assert.notEqual(status, 0, 'promtool accepted a changed threshold');
    assert.match(output, /AuditFlowHighMemory/);
  });

  test('the memory alert compares each pod with the limit the services export, never a fixed size', async () => {
    const rule = alertRules.find((r) => r.alert === 'AuditFlowHighMemory');
    assert.ok(rule);
    assert.match(rule.expr, /process_resident_memory_bytes\{[^}]*\}\s*\/ auditflow_memory_limit_bytes\{/);
    assert.doesNotMatch(rule.expr, /1024/);
    const exported = await createRegistry('unit', { memoryLimitBytes: () => 1 }).metrics();
    assert.match(exported, /^auditflow_memory_limit_bytes\{service="unit"\} 1$/m, 'the shared metrics setup exports the gauge the rule divides by');
  });

  test('every alert has a firing and a quiet unit test case', () => {
    const firing = new Set<string>();
    const quiet = new Set<string>();
    for (const file of readdirSync(promtoolTestsDir).filter((f) => f.endsWith('.yaml'))) {
      const suite = readYaml<{ tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] }>(
        join(promtoolTestsDir, file),
      );
      for (const testCase of suite.tests) {
        for (const check of testCase.alert_rule_test ?? []) {
          ((check.exp_alerts ?? []).length > 0 ? firing : quiet).add(check.alertname);
        }
      }
    }
    for (const rule of alertRules) {
      assert.ok(firing.has(rule.alert as string), `${rule.alert} has no test proving it fires`);
      assert.ok(quiet.has(rule.alert as string), `${rule.alert} has no test proving it stays quiet`);
    }
    const known = new Set(alertRules.map((r) => r.alert));
    for (const name of [...firing, ...quiet]) assert.ok(known.has(name), `tests reference unknown alert ${name}`);
  });

  test('every alert carries severity, category, summary, description and a runbook that exists', () => {
    const runbooks = readFileSync(runbooksFile, 'utf8');
    const anchors = new Set([...runbooks.matchAll(/^#{2,3}\s+(.+)$/gm)].map((m) => githubAnchor(m[1] ?? '')));
    const names = new Set<string>();
    for (const rule of alertRules) {
      const name = rule.alert as string;
      assert.ok(!names.has(name), `${name} is defined twice`);
      names.add(name);
      assert.ok(SEVERITIES.has(rule.labels?.severity ?? ''), `${name}: severity ${rule.labels?.severity}`);
      assert.ok(CATEGORIES.has(rule.labels?.category ?? ''), `${name}: category ${rule.labels?.category}`);
      assert.ok((rule.annotations?.summary ?? '').length > 10, `${name}: summary`);
      assert.ok((rule.annotations?.description ?? '').length > 30, `${name}: description`);
      const anchor = name.toLowerCase();
      assert.equal(rule.annotations?.runbook_url, `docs/runbooks.md#${anchor}`, `${name}: runbook_url`);
      assert.ok(anchors.has(anchor), `docs/runbooks.md has no section #${anchor}`);
    }
  });

  test('alerts that Alertmanager inhibits by service carry a service label', () => {
    // Inhibition matches on `service`; an alert without it would never be muted.
    for (const rule of alertRules) {
      if (rule.labels?.service !== undefined) continue;
      const fromExpr =
        /label_replace\([\s\S]*"service"/.test(rule.expr) ||
        metricNames(rule.expr).every((m) => !m.startsWith('rabbitmq_') && m !== 'up');
      assert.ok(fromExpr, `${rule.alert} has no service label`);
    }
  });

  test('rules use only documented metric and label names', () => {
    for (const rule of [...alertRules, ...recordingRules]) {
      const problems = expressionProblems(rule.expr, contract, recordedNames, recordedLabels);
      assert.deepEqual(problems, [], `${rule.alert ?? rule.record}: ${problems.join('; ')}`);
    }
  });

  test('the service job regexes name exactly the five services', () => {
    for (const rule of alertRules) {
      for (const match of rule.expr.matchAll(/job=~"([^"]+)"/g)) {
        const jobs = (match[1] ?? '').split('|').filter((j) => j !== 'rabbitmq');
        assert.deepEqual([...jobs].sort(), [...APP_JOBS].sort(), `${rule.alert}: ${match[1]}`);
      }
    }
  });
});

describe('metric name extraction used by these checks', () => {
  test('finds metrics and ignores functions, labels, durations and variables', () => {
    assert.deepEqual(
      metricNames(
        'histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket{namespace="$namespace"}[$__rate_interval]))) > 0.5 unless on (namespace) up offset 10m',
      ),
      ['http_request_duration_seconds_bucket', 'up'],
    );
  });

  test('rejects an undocumented metric and a label the metric does not have', () => {
    assert.deepEqual(expressionProblems('rate(audit_analysis_processed_total[5m])', contract), []);
    assert.match(expressionProblems('rate(audit_analysis_processd_total[5m])', contract).join(), /not documented/);
    assert.match(
      expressionProblems('sum by (rule) (rate(audit_analysis_suppressed_total[5m]))', contract).join(),
      /label rule is not carried/,
    );
    assert.match(expressionProblems('audit_analysis_processed_total_bucket', contract).join(), /not a histogram/);
  });
});

describe('Prometheus scrape config', () => {
  interface ScrapeConfig {
    job_name: string;
    metrics_path?: string;
    kubernetes_sd_configs?: { role: string }[];
    file_sd_configs?: { files: string[] }[];
    relabel_configs?: Record<string, unknown>[];
  }
  interface PrometheusConfig {
    rule_files: string[];
    scrape_configs: ScrapeConfig[];
    alerting: { alertmanagers: { kubernetes_sd_configs?: unknown[]; file_sd_configs?: unknown[] }[] };
  }
  const config = readYaml<PrometheusConfig>(prometheusConfigFile);

  /**
   * Debian's Prometheus is built without Kubernetes discovery, so its promtool
   * rejects kubernetes_sd_configs. The copy swaps each of those blocks for a
   * file_sd_configs block so promtool still checks the rest (relabel regexes,
   * rule files, alerting); the test below checks the swapped blocks.
   */
  function writeCheckableCopy(dir: string, targetsFile: string): string {
    const copy = structuredClone(config);
    for (const scrape of copy.scrape_configs) {
      if (scrape.kubernetes_sd_configs === undefined) continue;
      delete scrape.kubernetes_sd_configs;
      scrape.file_sd_configs = [{ files: [targetsFile] }];
    }
    for (const alertmanager of copy.alerting.alertmanagers) {
      if (alertmanager.kubernetes_sd_configs === undefined) continue;
      delete alertmanager.kubernetes_sd_configs;
      alertmanager.file_sd_configs = [{ files: [targetsFile] }];
    }
    // rule_files resolve relative to the config, as they do for the original.
    symlinkSync(rulesDir, join(dir, 'rules'));
    const file = join(dir, 'prometheus.yaml');
    writeFileSync(file, stringifyYaml(copy));
    return file;
  }

  test('promtool check config accepts the config and finds the rule files', (t) => {
    const direct = run('promtool', ['check', 'config', prometheusConfigFile]);
    let output = direct.output;
    if (direct.status !== 0) {
      assert.match(direct.output, /field kubernetes_sd_configs not found/, direct.output);
      t.diagnostic('this promtool lacks Kubernetes discovery; checking a file_sd copy instead');
      const dir = tempDir(t, 'auditflow-promcfg-');
      const targets = join(dir, 'targets.json');
      writeFileSync(targets, '[]');
      const checked = run('promtool', ['check', 'config', writeCheckableCopy(dir, targets)]);
      assert.equal(checked.status, 0, checked.output);
      output = checked.output;
    }
    assert.match(output, /auditflow-alerts\.yaml/);
    assert.match(output, /auditflow-recording\.yaml/);
    assert.match(output, new RegExp(`SUCCESS: ${alertRules.length} rules found`));
  });

  test('promtool check config fails on a broken relabel regex', (t) => {
    const dir = tempDir(t, 'auditflow-promcfg-');
    const targets = join(dir, 'targets.json');
    writeFileSync(targets, '[]');
    const file = writeCheckableCopy(dir, targets);
    writeFileSync(file, readFileSync(file, 'utf8').replace('regex: Succeeded|Failed', 'regex: Succeeded|(Failed'));
    assert.notEqual(run('promtool', ['check', 'config', file]).status, 0);
  });

  test('relabelling turns discovered pods into the expected targets (real Prometheus)', async (t) => {
    // Prometheus itself applies the relabel rules to pods described with the
    // same __meta_kubernetes_* labels that Kubernetes discovery produces.
    // Not tempDir(): the directory may only go once Prometheus has exited,
    // or its last TSDB writes race the removal.
    const dir = mkdtempSync(join(tmpdir(), 'auditflow-prom-e2e-'));
    const targetsFile = join(dir, 'targets.json');
    const pod = (address: string, labels: Record<string, string>) => ({
      targets: [address],
      labels: {
        __meta_kubernetes_namespace: 'auditflow',
        __meta_kubernetes_pod_phase: 'Running',
        __meta_kubernetes_pod_node_name: 'pi1',
        ...labels,
      },
    });
    const annotated = (port: string) => ({
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_port: port,
    });
    const analysis = {
      ...annotated('8001'),
      __meta_kubernetes_pod_ip: '10.42.0.10',
      __meta_kubernetes_pod_name: 'audit-log-analysis-6c9d-x1',
      __meta_kubernetes_pod_label_app_kubernetes_io_name: 'audit-log-analysis',
    };
    writeFileSync(
      targetsFile,
      JSON.stringify([
        // One target per container port: both must collapse into :8001.
        pod('10.42.0.10:5001', analysis),
        pod('10.42.0.10:8001', analysis),
        pod('10.42.0.11:8000', {
          ...annotated('8000'),
          __meta_kubernetes_pod_ip: '10.42.0.11',
          __meta_kubernetes_pod_name: 'notification-service-7d4c-q8',
          __meta_kubernetes_pod_label_app: 'legacy-name',
          __meta_kubernetes_pod_label_app_kubernetes_io_name: 'notification-service',
        }),
        pod('[fd00::14]:8080', {
          ...annotated('8080'),
          __meta_kubernetes_pod_ip: 'fd00::14',
          __meta_kubernetes_pod_name: 'event-audit-dashboard-59f8-k2',
          __meta_kubernetes_pod_label_app: 'event-audit-dashboard',
        }),
        pod('10.42.0.20:9000', {
          ...annotated('9443'),
          __meta_kubernetes_pod_annotation_prometheus_io_path: '/custom/metrics',
          __meta_kubernetes_pod_annotation_prometheus_io_scheme: 'https',
          __meta_kubernetes_pod_ip: '10.42.0.20',
          __meta_kubernetes_pod_name: 'other-0',
          __meta_kubernetes_pod_label_app_kubernetes_io_name: 'other',
        }),
        pod('10.42.0.21:8000', {
          __meta_kubernetes_pod_ip: '10.42.0.21',
          __meta_kubernetes_pod_name: 'not-annotated-0',
          __meta_kubernetes_pod_label_app_kubernetes_io_name: 'not-annotated',
        }),
        pod('10.42.0.22:8000', {
          ...annotated('8000'),
          __meta_kubernetes_pod_phase: 'Succeeded',
          __meta_kubernetes_pod_ip: '10.42.0.22',
          __meta_kubernetes_pod_name: 'auditflow-helm-test',
          __meta_kubernetes_pod_label_app_kubernetes_io_name: 'audit-event-generator',
        }),
        pod('10.42.0.15:5672', {
          ...annotated('15692'),
          __meta_kubernetes_pod_ip: '10.42.0.15',
          __meta_kubernetes_pod_name: 'rabbitmq-0',
          __meta_kubernetes_pod_label_app_kubernetes_io_name: 'rabbitmq',
        }),
      ]),
    );
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [
        `--config.file=${writeCheckableCopy(dir, targetsFile)}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString();
    });
    t.after(async () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    });

    interface ApiTarget {
      labels: Record<string, string>;
      scrapePool: string;
      scrapeUrl: string;
    }
    const expectedActive = 5;
    let active: ApiTarget[] = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (spawnError !== undefined) throw new Error(`cannot run prometheus (run scripts/install-test-tools.sh): ${spawnError.message}`);
      if (child.exitCode !== null) break;
      try {
        const response = await fetch(`http://127.0.0.1:${port}/api/v1/targets?state=active`);
        active = ((await response.json()) as { data: { activeTargets: ApiTarget[] } }).data.activeTargets;
        if (active.filter((a) => a.scrapePool !== 'prometheus').length >= expectedActive) break;
      } catch {
        // Not listening yet.
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const summary = active
      .filter((a) => a.scrapePool !== 'prometheus')
      .map((a) => ({ pool: a.scrapePool, url: a.scrapeUrl, job: a.labels.job, pod: a.labels.pod }))
      .sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
    assert.deepEqual(
      summary,
      [
        { pool: 'kubernetes-pods', url: 'http://10.42.0.10:8001/metrics', job: 'audit-log-analysis', pod: 'audit-log-analysis-6c9d-x1' },
        { pool: 'kubernetes-pods', url: 'http://10.42.0.11:8000/metrics', job: 'notification-service', pod: 'notification-service-7d4c-q8' },
        { pool: 'rabbitmq', url: 'http://10.42.0.15:15692/metrics/per-object', job: 'rabbitmq', pod: 'rabbitmq-0' },
        { pool: 'kubernetes-pods', url: 'http://[fd00::14]:8080/metrics', job: 'event-audit-dashboard', pod: 'event-audit-dashboard-59f8-k2' },
        { pool: 'kubernetes-pods', url: 'https://10.42.0.20:9443/custom/metrics', job: 'other', pod: 'other-0' },
      ],
      `Prometheus log:\n${log}`,
    );
    const analysisTarget = active.find((a) => a.labels.pod === 'audit-log-analysis-6c9d-x1');
    assert.deepEqual(
      Object.keys(analysisTarget?.labels ?? {}).sort(),
      ['instance', 'job', 'namespace', 'node', 'pod'],
      'targets carry exactly the documented target labels (and no service label)',
    );
  });

  test('pods are discovered with the pod role and honour the scrape annotations', () => {
    const pods = config.scrape_configs.find((s) => s.job_name === 'kubernetes-pods');
    assert.ok(pods);
    assert.deepEqual(
      pods.kubernetes_sd_configs?.map((sd) => sd.role),
      ['pod'],
    );
    const sources = (pods.relabel_configs ?? []).map((r) => (r.source_labels as string[] | undefined)?.join(','));
    for (const annotation of ['scrape', 'port', 'path', 'scheme']) {
      assert.ok(
        sources.some((s) => s?.includes(`__meta_kubernetes_pod_annotation_prometheus_io_${annotation}`)),
        `prometheus.io/${annotation} is not honoured`,
      );
    }
    const rabbitmq = config.scrape_configs.find((s) => s.job_name === 'rabbitmq');
    assert.equal(rabbitmq?.metrics_path, '/metrics/per-object');
    assert.deepEqual(
      rabbitmq?.kubernetes_sd_configs?.map((sd) => sd.role),
      ['pod'],
    );
  });
});

describe('Alertmanager config', () => {
  interface Matchered {
    source_matchers: string[];
    target_matchers: string[];
    equal: string[];
  }
  interface AlertmanagerConfig {
    route: { receiver: string; group_by: string[]; group_wait: string; group_interval: string; repeat_interval: string };
    receivers: { name: string; webhook_configs?: Record<string, unknown>[] }[];
    inhibit_rules: Matchered[];
  }
  const config = readYaml<AlertmanagerConfig>(alertmanagerFile);

  test('amtool check-config accepts the config', (t) => {
    const direct = run('amtool', ['check-config', alertmanagerFile]);
    if (direct.status === 0) return;
    // url_file arrived in Alertmanager 0.26; older amtool (Debian bookworm
    // ships 0.25) rejects only that field, so everything else is checked
    // with a literal URL in its place.
    assert.match(direct.output, /field url_file not found/, direct.output);
    t.diagnostic('this amtool predates webhook url_file; checking a copy with a literal url');
    const dir = tempDir(t, 'auditflow-am-');
    const copy = join(dir, 'alertmanager.yaml');
    writeFileSync(
      copy,
      readFileSync(alertmanagerFile, 'utf8').replace(/url_file: .+/g, 'url: http://webhook.invalid/alertmanager'),
    );
    const checked = run('amtool', ['check-config', copy]);
    assert.equal(checked.status, 0, checked.output);
  });

  test('amtool rejects an inhibit rule with an invalid matcher regex', (t) => {
    const dir = tempDir(t, 'auditflow-am-');
    const copy = join(dir, 'alertmanager.yaml');
    const valid = readFileSync(alertmanagerFile, 'utf8').replace(/url_file: .+/g, 'url: http://webhook.invalid/alertmanager');
    const broken = valid.replace('category =~ "dependency|pipeline"', 'category =~ "dependency|(pipeline"');
    assert.notEqual(broken, valid, 'the matcher to break was not found');
    writeFileSync(copy, broken);
    const result = run('amtool', ['check-config', copy]);
    assert.notEqual(result.status, 0, result.output);
  });

  test('routing groups by alert and service with the agreed timings', () => {
    assert.deepEqual(config.route.group_by, ['alertname', 'service']);
    assert.equal(config.route.group_wait, '30s');
    assert.equal(config.route.group_interval, '5m');
    assert.equal(config.route.repeat_interval, '4h');
    assert.ok(config.receivers.some((r) => r.name === config.route.receiver));
  });

  test('webhook URLs come from files, never from the config', () => {
    const webhooks = config.receivers.flatMap((r) => r.webhook_configs ?? []);
    assert.ok(webhooks.length > 0);
    for (const webhook of webhooks) {
      assert.equal(webhook.url, undefined, 'a literal webhook url would commit a secret');
      assert.match(String(webhook.url_file), /^\/etc\/alertmanager\/secrets\//);
    }
    assert.doesNotMatch(readFileSync(alertmanagerFile, 'utf8'), /https?:\/\//);
  });

  test('every inhibit rule matches alerts that exist and labels they carry', () => {
    const parse = (matcher: string) => {
      const m = /^(\w+)\s*(=~|!=|=)\s*"?([^"]*)"?$/.exec(matcher.trim());
      assert.ok(m, `cannot read matcher ${matcher}`);
      const [, label = '', op = '', value = ''] = m;
      return { label, op, value };
    };
    // Only statically known labels can be checked; service and namespace are
    // set per series and are covered by the `equal` check below.
    const staticLabels = (rule: RuleDefinition): Record<string, string> => ({
      alertname: rule.alert as string,
      ...(rule.labels ?? {}),
    });
    const matches = (rule: RuleDefinition, matchers: string[]) =>
      matchers.map(parse).every(({ label, op, value }) => {
        const actual = staticLabels(rule)[label];
        if (actual === undefined) return label === 'service';
        if (op === '=') return actual === value;
        if (op === '!=') return actual !== value;
        return new RegExp(`^(?:${value})$`).test(actual);
      });
    for (const inhibit of config.inhibit_rules) {
      const sources = alertRules.filter((r) => matches(r, inhibit.source_matchers));
      const targets = alertRules.filter((r) => matches(r, inhibit.target_matchers));
      assert.ok(sources.length > 0, `no alert matches source ${inhibit.source_matchers.join(', ')}`);
      assert.ok(targets.length > 0, `no alert matches target ${inhibit.target_matchers.join(', ')}`);
      for (const rule of [...sources, ...targets]) {
        for (const label of inhibit.equal) {
          const carried =
            rule.labels?.[label] !== undefined ||
            labelNames(rule.expr).includes(label) ||
            new RegExp(`"${label}"`).test(rule.expr) ||
            // Plain selectors keep every target label.
            !/\b(?:sum|min|max|avg|count)\b/.test(rule.expr);
          assert.ok(carried, `${rule.alert} lacks label ${label} needed by an inhibit rule`);
        }
      }
    }
  });
});

describe('Grafana dashboard', () => {
  interface Target {
    expr: string;
    datasource: { type: string; uid: string };
  }
  interface Panel {
    id: number;
    type: string;
    title: string;
    datasource?: { type: string; uid: string };
    targets?: Target[];
    panels?: Panel[];
    gridPos: { x: number; y: number; w: number; h: number };
  }
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as {
    schemaVersion: number;
    uid: string;
    panels: Panel[];
    templating: { list: { name: string; type: string; query: unknown; definition?: string }[] };
  };
  const allPanels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
  const dataPanels = allPanels.filter((p) => p.type !== 'row');

  test('uses schema 39 or later and a datasource template variable', () => {
    assert.ok(dashboard.schemaVersion >= 39, `schemaVersion ${dashboard.schemaVersion}`);
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    assert.equal(variable?.type, 'datasource');
    assert.equal(variable?.query, 'prometheus');
  });

  test('has the agreed rows', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title);
    assert.deepEqual(rows, ['Pipeline throughput', 'Errors', 'Latency', 'Resources', 'Dependencies', 'Security', 'Real audit sources (audit-ingest)']);
  });

  test('every panel and query uses the datasource variable', () => {
    assert.ok(dataPanels.length > 0);
    for (const panel of dataPanels) {
      assert.equal(panel.datasource?.uid, DATASOURCE_VARIABLE, `panel ${panel.title}`);
      assert.ok((panel.targets ?? []).length > 0, `panel ${panel.title} has no query`);
      for (const target of panel.targets ?? []) {
        assert.equal(target.datasource?.uid, DATASOURCE_VARIABLE, `a query of ${panel.title}`);
      }
    }
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      assert.equal((variable as unknown as Panel).datasource?.uid, DATASOURCE_VARIABLE, `variable ${variable.name}`);
    }
  });

  test('every query reads only documented metrics and labels', () => {
    const exprs = [
      ...dataPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
      ...dashboard.templating.list
        .filter((v) => v.type === 'query')
        .map((v) => ({
          where: `variable ${v.name}`,
          expr: String(v.definition).replace(/^label_values\((.*),\s*\w+\)$/, '$1'),
        })),
    ];
    for (const { where, expr } of exprs) {
      const problems = expressionProblems(expr, contract);
      assert.deepEqual(problems, [], `${where}: ${problems.join('; ')}`);
    }
  });

  test('panel ids are unique and panels do not overlap', () => {
    const ids = allPanels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    const cells = new Map<string, string>();
    for (const panel of allPanels) {
      const { x, y, w, h } = panel.gridPos;
      assert.ok(x >= 0 && x + w <= 24, `${panel.title} is outside the 24-column grid`);
      for (let row = y; row < y + h; row++) {
        for (let col = x; col < x + w; col++) {
          const key = `${row}:${col}`;
          assert.ok(!cells.has(key), `${panel.title} overlaps ${cells.get(key)}`);
          cells.set(key, panel.title);
        }
      }
    }
  });
});

describe('Grafana dashboard ConfigMap', () => {
  test('is in sync with the dashboard JSON', () => {
    const { status, output } = run(process.execPath, [syncScript, '--check']);
    assert.equal(status, 0, output);
  });

  test('carries the sidecar label and the dashboard unchanged', () => {
    const configMap = readYaml<{ kind: string; metadata: { labels: Record<string, string> }; data: Record<string, string> }>(
      configMapFile,
    );
    assert.equal(configMap.kind, 'ConfigMap');
    assert.equal(configMap.metadata.labels.grafana_dashboard, '1');
    assert.deepEqual(
      JSON.parse(configMap.data['auditflow-overview.json'] ?? 'null'),
      JSON.parse(readFileSync(dashboardFile, 'utf8')),
    );
  });

  describe('sync --check', () => {
    let dir = '';
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'auditflow-grafana-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    test('fails when the dashboard changed after the ConfigMap was generated', () => {
      const dashboards = join(dir, 'dashboards');
      const out = join(dir, 'configmap.yaml');
      cpSync(dashboardsDir, dashboards, { recursive: true });
      assert.equal(run(process.execPath, [syncScript, '--dashboards', dashboards, '--out', out]).status, 0);
      assert.equal(run(process.execPath, [syncScript, '--check', '--dashboards', dashboards, '--out', out]).status, 0);

      const edited = join(dashboards, 'auditflow-overview.json');
      const json = JSON.parse(readFileSync(edited, 'utf8'));
      json.title = 'AuditFlow overview (edited)';
      writeFileSync(edited, JSON.stringify(json, null, 2));
      const stale = run(process.execPath, [syncScript, '--check', '--dashboards', dashboards, '--out', out]);
      assert.equal(stale.status, 1, stale.output);
      assert.match(stale.output, /out of date/);
    });

    test('refuses a dashboard that is not valid JSON', () => {
      const dashboards = join(dir, 'broken');
      cpSync(dashboardsDir, dashboards, { recursive: true });
      writeFileSync(join(dashboards, 'auditflow-overview.json'), '{"uid": ');
      const result = run(process.execPath, [syncScript, '--dashboards', dashboards, '--out', join(dir, 'unused.yaml')]);
      assert.equal(result.status, 2, result.output);
    });
  });
});

describe('Grafana provisioning', () => {
  test('declares a Prometheus datasource and a file dashboard provider', () => {
    const datasources = readYaml<{ apiVersion: number; datasources: { type: string; uid: string }[] }>(
      join(monitoringDir, 'grafana/provisioning/datasources/auditflow-prometheus.yaml'),
    );
    assert.equal(datasources.apiVersion, 1);
    assert.equal(datasources.datasources[0]?.type, 'prometheus');
    const providers = readYaml<{ apiVersion: number; providers: { type: string; options: { path: string } }[] }>(
      join(monitoringDir, 'grafana/provisioning/dashboards/auditflow.yaml'),
    );
    assert.equal(providers.apiVersion, 1);
    assert.equal(providers.providers[0]?.type, 'file');
    assert.ok(providers.providers[0]?.options.path.startsWith('/'));
  });
});
