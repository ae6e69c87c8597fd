import { randomBytes } from 'node:crypto';
import {
  createLogger,
  type Env,
  EnvReader,
  EXIT_CONFIG,
  GracefulShutdown,
  StartupError,
  LOG_LEVELS,
  assertPortsFree,
  MemoryBroker,
  type ServiceHandle,
} from '@auditflow/common';
import { loadAnalysisConfig, loadRulesFile, RulesError, startAnalysis } from '@auditflow/audit-log-analysis';
import { loadGeneratorConfig, startGenerator } from '@auditflow/audit-event-generator';
import { loadIngestConfig, startIngest } from '@auditflow/audit-ingest';
import { loadDashboardConfig, startDashboard } from '@auditflow/event-audit-dashboard';
import { loadNotificationConfig, loadOutputs, openAlertStore, startNotificationService } from '@auditflow/notification-service';
import { checkConfiguredServers, describeAlertStore, openAdapters, readAdapterConfig } from './adapters.ts';
import { ignoredVariableWarnings } from './ignored-variables.ts';

export interface AllInOneLayout {
  bindHost: string;
  ports: {
    dashboard: number;
    notification: number;
    generator: number;
    generatorMetrics: number;
    analysis: number;
    analysisMetrics: number;
    ingest: number;
    ingestMetrics: number;
    syslog: number;
  };
}

/** Ports of the four services in one process; the cluster defaults clash (8000 twice), so they are remapped. */
export function readLayout(env: Env): AllInOneLayout {
  const reader = new EnvReader(env);
  const layout = {
    bindHost: reader.string('BIND_HOST', '127.0.0.1'),
    ports: {
      dashboard: reader.port('DASHBOARD_PORT', 8080),
      notification: reader.port('NOTIFICATION_PORT', 8000),
      generator: reader.port('GENERATOR_PORT', 5000),
      generatorMetrics: reader.port('GENERATOR_METRICS_PORT', 8002),
      analysis: reader.port('ANALYSIS_PORT', 5001),
      analysisMetrics: reader.port('ANALYSIS_METRICS_PORT', 8001),
      ingest: reader.port('INGEST_PORT', 5002),
      ingestMetrics: reader.port('INGEST_METRICS_PORT', 8003),
      syslog: reader.port('SYSLOG_PORT', 5514),
    },
  };
  reader.done();
  return layout;
}

export interface RunningPlatform {
  services: ServiceHandle[];
  summary: string;
  stop(): Promise<void>;
}

export interface StartOutput {
  /** One line per start-up step, so a first start that takes seconds is not silent. */
  progress: (line: string) => void;
  warn: (line: string) => void;
}

const QUIET: StartOutput = { progress: () => undefined, warn: () => undefined };

/**
 * Starts the four services in one process on shared adapters. Configuration
 * is read and validated in full, the ports are checked free and configured
 * servers reachable, all before the store is opened or migrated.
 */
export async function startAllInOne(env: Env, output: StartOutput = QUIET): Promise<RunningPlatform> {
  const layout = readLayout(env);
  const adapterConfig = readAdapterConfig(env);
  const level = new EnvReader(env).oneOf('LOG_LEVEL', LOG_LEVELS, 'info');
  const serviceEnv = (overrides: Record<string, string>): Env => ({ ...env, ...overrides });
  const token = randomBytes(24).toString('base64url');

  const notificationConfig = loadNotificationConfig(
    serviceEnv({ API_PORT: String(layout.ports.notification), API_HOST: layout.bindHost }),
  );
  const outputs = loadOutputs(notificationConfig, env);
  const analysisConfig = loadAnalysisConfig(
    serviceEnv({ APP_PORT: String(layout.ports.analysis), PROMETHEUS_PORT: String(layout.ports.analysisMetrics) }),
  );
  const generatorConfig = {
    ...loadGeneratorConfig(
      serviceEnv({ APP_PORT: String(layout.ports.generator), PROMETHEUS_PORT: String(layout.ports.generatorMetrics) }),
    ),
    host: layout.bindHost,
  };
  // Real sources on loopback; without INGEST_TOKENS the listeners take unauthenticated input only when bound to loopback.
  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(layout.bindHost);
  const ingestConfig = {
    ...loadIngestConfig(
      serviceEnv({
        APP_PORT: String(layout.ports.ingest),
        PROMETHEUS_PORT: String(layout.ports.ingestMetrics),
        SYSLOG_PORT: String(layout.ports.syslog),
        ...(loopback && !env['INGEST_TOKENS'] && !env['INGEST_TOKENS_FILE'] && !env['INGEST_AUTH'] ? { INGEST_AUTH: 'none' } : {}),
      }),
    ),
    host: layout.bindHost,
  };
  // No token is built in: this run makes one for its own dashboard, beside any the operator sets
  // (API_TOKENS/API_TOKENS_FILE add tokens for curl and scripts; they never take the dashboard's rights away).
  const tokens = [token];
  const operatorTokens = notificationConfig.apiTokens.length > 0 || notificationConfig.apiTokensFile !== undefined;
  // The dashboard pauses and resumes the demo stream with a token of its own (scope generator:control).
  const controlToken = randomBytes(24).toString('base64url');
  generatorConfig.controlTokens = [...generatorConfig.controlTokens, controlToken];

  for (const line of ignoredVariableWarnings(env)) output.warn(line);

  // The rules are read before anything starts: a broken file is a setting to fix (exit 78), not a crash after three services ran.
  let rules: Awaited<ReturnType<typeof loadRulesFile>>;
  try {
    rules = await loadRulesFile(analysisConfig.rulesFile);
  } catch (error) {
    if (!(error instanceof RulesError) && (error as NodeJS.ErrnoException).code === undefined) throw error;
    throw new StartupError('AF_RULES_INVALID', `${(error as Error).message}; fix the file or set RULES_FILE`, {
      variable: 'RULES_FILE',
      exitCode: EXIT_CONFIG,
      cause: error,
    });
  }

  output.progress('checking that the ports are free');
  const { bindHost: host, ports } = layout;
  await assertPortsFree([
    { port: ports.dashboard, host, variable: 'DASHBOARD_PORT' },
    { port: ports.notification, host, variable: 'NOTIFICATION_PORT' },
    { port: ports.generator, host, variable: 'GENERATOR_PORT' },
    { port: ports.generatorMetrics, host, variable: 'GENERATOR_METRICS_PORT' },
    { port: ports.analysis, host, variable: 'ANALYSIS_PORT' },
    { port: ports.analysisMetrics, host, variable: 'ANALYSIS_METRICS_PORT' },
  ]);
  if (adapterConfig.rabbit.url || adapterConfig.postgres.url || adapterConfig.redis.url) {
    output.progress('connecting to the configured servers');
    await checkConfiguredServers(adapterConfig);
  }

  output.progress(`opening the alert store (${describeAlertStore(adapterConfig)})`);
  const adapters = await openAdapters(adapterConfig, level);
  const started: ServiceHandle[] = [];
  const logger = (service: string) => createLogger({ service, level });
  try {
    await adapters.broker.declareQueues([analysisConfig.queue, analysisConfig.alertQueue]);
    const store = await openAlertStore(adapters.sqlClient, logger('notification-service'));
    if (notificationConfig.migrateOnStart) {
      output.progress('migrating the alert store');
      const applied = await store.migrate();
      output.progress(applied.length > 0 ? `applied migrations ${applied.join(', ')}` : 'schema is up to date');
    }
    output.progress('starting notification-service');
    const notification = await startNotificationService({
      // Migrated just above, with progress shown.
      config: { ...notificationConfig, migrateOnStart: false },
      // The run's own dashboard acknowledges and manages silences: every scope.
        tokens: tokens.map((value) => ({ token: value, name: 'event-audit-dashboard', scopes: ['read', 'ack', 'admin'] as const })),
      logger: logger('notification-service'),
      broker: adapters.broker,
      store,
      outputs,
    });
    started.push(notification);
    output.progress('starting audit-log-analysis');
    const analysis = await startAnalysis({
      config: analysisConfig,
      logger: logger('audit-log-analysis'),
      broker: adapters.broker,
      windowStore: adapters.windowStore,
      rules,
      host: layout.bindHost,
    });
    started.push(analysis);
    const notificationUrl = notification.urls['http'] ?? `http://127.0.0.1:${layout.ports.notification}`;
    output.progress('starting audit-event-generator');
    const generator = await startGenerator({ config: generatorConfig, logger: logger('audit-event-generator'), broker: adapters.broker });
    started.push(generator);
    output.progress('starting event-audit-dashboard');
    const dashboardConfig = loadDashboardConfig(
      serviceEnv({
        APP_PORT: String(layout.ports.dashboard),
        NOTIFICATION_SERVICE_URL: notificationUrl,
        NOTIFICATION_API_TOKEN: token,
        GENERATOR_URL: generator.urls['http'] ?? `http://${urlHost(layout.bindHost)}:${layout.ports.generator}`,
        GENERATOR_CONTROL_TOKEN: controlToken,
      }),
    );
    if (operatorTokens) {
      output.progress('API_TOKENS/API_TOKENS_FILE are set: your tokens are added; the dashboard keeps its own token for this run (read, ack, admin)');
    }
    const dashboard = await startDashboard({
      config: { ...dashboardConfig, host: layout.bindHost },
      logger: logger('event-audit-dashboard'),
    });
    started.push(dashboard);
    output.progress('starting audit-ingest');
    const ingest = await startIngest({ config: ingestConfig, logger: logger('audit-ingest'), broker: adapters.broker });
    started.push(ingest);
    const stopWatching = stopDemoOnRealInput(ingest, generator, env, output);

    const summary = [
      'AuditFlow is running (all-in-one)',
      `  dashboard             ${dashboard.urls['http']}`,
      `  notification API      ${notificationUrl}  (OpenAPI: ${notificationUrl}/openapi.json)`,
      `  generator API         ${generator.urls['http']}`,
      `  analysis API          ${analysis.urls['http']}`,
      `  ingest (audit, syslog) ${ingest.urls['http']}/k8s/audit  syslog tcp+udp ${ingest.urls['syslog_tcp']?.replace('tcp://', '')}  e.g. logger -n 127.0.0.1 -P ${ingest.syslog?.tcpPort} -t sshd 'Invalid user x from 192.0.2.1'`,
      `  broker                ${adapters.describe.broker}`,
      `  window state          ${adapters.describe.windows}`,
      `  alert store           ${adapters.describe.alerts}`,
      `  scenarios             ${generatorConfig.scenarioIntervalSeconds > 0 ? `every ${generatorConfig.scenarioIntervalSeconds}s, first after ${generatorConfig.firstScenarioDelaySeconds}s` : 'off'}`,
      '  Ctrl-C drains and stops; alerts are kept for the next start.',
    ].join('\n');

    let stopping: Promise<void> | undefined;
    return {
      services: started,
      summary,
      stop: () => {
        stopping ??= (async () => {
          // Producers first, then let the in-process queues drain so nothing in memory is lost.
          stopWatching();
          await generator.stop();
          await ingest.stop();
          if (adapters.broker instanceof MemoryBroker) {
            await adapters.broker.waitIdle([analysisConfig.queue, analysisConfig.alertQueue], 20_000);
          }
          await analysis.stop();
          await notification.stop();
          await dashboard.stop();
          await adapters.windowStore.close();
          await adapters.broker.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    for (const service of started.reverse()) await service.stop().catch(() => undefined);
    // The store owns the client once opened; closing twice is harmless and releases the data-directory lock.
    await adapters.sqlClient.close().catch(() => undefined);
    await adapters.windowStore.close().catch(() => undefined);
    await adapters.broker.close().catch(() => undefined);
    throw error;
  }
}

function urlHost(bindHost: string): string {
  if (bindHost === '0.0.0.0' || bindHost === '::') return '127.0.0.1';
  return bindHost.includes(':') ? `[${bindHost}]` : bindHost;
}

/**
 * Once a real source (syslog, journald, the K3s audit webhook) has sent anything through
 * audit-ingest, the made-up background stream is paused so real alerts are not buried in demo
 * ones; a log line and the dashboard's demo-stream panel say so. AUTO_PAUSE_DEMO=false keeps it.
 */
export function stopDemoOnRealInput(
  ingest: { metrics: { published: { get(): Promise<{ values: { value: number }[] }> } } },
  generator: { demo: { paused: boolean; pause(reason: string, by?: string): unknown } },
  env: Env,
  output: StartOutput,
  intervalMs = 1000,
): () => void {
  if (new EnvReader(env).bool('AUTO_PAUSE_DEMO', true) === false) return () => undefined;
  const timer = setInterval(() => {
    void ingest.metrics.published.get().then((metric) => {
      const total = metric.values.reduce((sum, entry) => sum + entry.value, 0);
      if (total === 0 || generator.demo.paused) return;
      clearInterval(timer);
      generator.demo.pause('real-source', 'auditflow');
      output.progress(
        `a real source sent ${total} event${total === 1 ? '' : 's'}: the demo stream is paused (resume it on the dashboard; AUTO_PAUSE_DEMO=false keeps it running)`,
      );
    });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** `auditflow start`: runs until SIGINT/SIGTERM, then drains. */
export async function runAllInOne(env: Env): Promise<void> {
  const platform = await startAllInOne(env, {
    progress: (line) => process.stdout.write(`auditflow: ${line}\n`),
    warn: (line) => process.stderr.write(`auditflow: warning: ${line}\n`),
  });
  const logger = createLogger({ service: 'auditflow', level: 'info' });
  const shutdown = new GracefulShutdown({ logger, timeoutMs: 60_000 });
  shutdown.add('platform', () => platform.stop());
  shutdown.installSignalHandlers();
  process.stdout.write(`\n${platform.summary}\n\n`);
}
