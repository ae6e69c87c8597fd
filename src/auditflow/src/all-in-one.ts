import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  createLogger,
  type Env,
  EnvReader,
  GracefulShutdown,
  LOG_LEVELS,
  assertPortsFree,
  MemoryBroker,
  type PortClaim,
  type ServiceHandle,
} from '@auditflow/common';
import { portClaims, readEnv } from '@auditflow/common/platform';
import { loadAnalysisConfig, loadAnalysisFiles, loadEnrichment, startAnalysis } from '@auditflow/audit-log-analysis';
import { loadGeneratorConfig, startGenerator } from '@auditflow/audit-event-generator';
import { loadIngestConfig, startIngest } from '@auditflow/audit-ingest';
import { loadDashboardConfig, startDashboard } from '@auditflow/event-audit-dashboard';
import { loadNotificationConfig, loadOutputs, openAlertStore, startNotificationService } from '@auditflow/notification-service';
import { ALL_IN_ONE_ENV } from './all-in-one-env.ts';
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
  /** Every declared port with the variable that moves it, for the start-up check. */
  claims: PortClaim[];
}

/** Ports of the five services in one process, from ALL_IN_ONE_ENV. */
export function readLayout(env: Env): AllInOneLayout {
  const reader = new EnvReader(env);
  const values = readEnv(ALL_IN_ONE_ENV, reader);
  reader.done();
  return {
    bindHost: values.BIND_HOST,
    ports: {
      dashboard: values.DASHBOARD_PORT,
      notification: values.NOTIFICATION_PORT,
      generator: values.GENERATOR_PORT,
      generatorMetrics: values.GENERATOR_METRICS_PORT,
      analysis: values.ANALYSIS_PORT,
      analysisMetrics: values.ANALYSIS_METRICS_PORT,
      ingest: values.INGEST_PORT,
      ingestMetrics: values.INGEST_METRICS_PORT,
      syslog: values.SYSLOG_PORT,
    },
    claims: portClaims(ALL_IN_ONE_ENV, values, values.BIND_HOST),
  };
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
 * Starts the five services in one process on shared adapters. Configuration
 * is read and validated in full, the ports are checked free and configured
 * servers reachable, all before the store is opened or migrated.
 */
export async function startAllInOne(env: Env, output: StartOutput = QUIET): Promise<RunningPlatform> {
  const layout = readLayout(env);
  const adapterConfig = readAdapterConfig(env);
  const level = new EnvReader(env).oneOf('LOG_LEVEL', LOG_LEVELS, 'info');
  const serviceEnv = (overrides: Record<string, string>): Env => ({ ...env, ...overrides });
  const token = randomBytes(24).toString('base64url');
  // One exceptions file for both services: the notification API writes what the dashboard saves,
  // the analysis in this process re-reads it (docs/analysis-rules.md, "Exceptions").
  const exceptionsFile = exceptionsFileOf(env, adapterConfig.postgres.dataDir);

  const notificationConfig = loadNotificationConfig(
    serviceEnv({ API_PORT: String(layout.ports.notification), API_HOST: layout.bindHost, EXCEPTIONS_FILE: exceptionsFile }),
  );
  const outputs = loadOutputs(notificationConfig, env);
  const analysisConfig = loadAnalysisConfig(
    serviceEnv({ APP_PORT: String(layout.ports.analysis), PROMETHEUS_PORT: String(layout.ports.analysisMetrics), EXCEPTIONS_FILE: exceptionsFile }),
  );
  // Rules, exceptions, databases and hosts file are configuration: unusable ones stop the start (78)
  // before anything opens. A missing exceptions file is not a problem: the notification-service
  // creates it at its start, and the analysis opens it then.
  const analysisFiles = loadAnalysisFiles(analysisConfig, createLogger({ service: 'audit-log-analysis', level }), { exceptionsMayBeAbsent: true });
  const enrichment = loadEnrichment(analysisConfig.enrichment);
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
  // No token is built in: an operator's tokens win; otherwise this run makes one for its own dashboard.
  const tokens = notificationConfig.apiTokens.length > 0 || notificationConfig.apiTokensFile ? undefined : [token];

  for (const line of ignoredVariableWarnings(env)) output.warn(line);

  output.progress('checking that the ports are free');
  await assertPortsFree(layout.claims);
  if (adapterConfig.rabbit.url || adapterConfig.postgres.url) {
    output.progress('connecting to the configured servers');
    await checkConfiguredServers(adapterConfig);
  }

  mkdirSync(dirname(exceptionsFile), { recursive: true });
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
      ...(tokens ? { tokens: tokens.map((value) => ({ token: value, name: 'event-audit-dashboard', scopes: ['read', 'ack', 'admin'] as const })) } : {}),
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
      host: layout.bindHost,
      rules: analysisFiles.rules,
      ...(analysisFiles.exceptions ? { exceptions: analysisFiles.exceptions } : {}),
      enrichment: enrichment ?? null,
    });
    started.push(analysis);
    const notificationUrl = notification.urls['http'] ?? `http://127.0.0.1:${layout.ports.notification}`;
    output.progress('starting event-audit-dashboard');
    const dashboardConfig = loadDashboardConfig(
      serviceEnv({
        APP_PORT: String(layout.ports.dashboard),
        NOTIFICATION_SERVICE_URL: notificationUrl,
        ...(tokens ? { NOTIFICATION_API_TOKEN: token } : {}),
      }),
    );
    const dashboard = await startDashboard({
      config: { ...dashboardConfig, host: layout.bindHost },
      logger: logger('event-audit-dashboard'),
    });
    started.push(dashboard);
    output.progress('starting audit-ingest');
    const ingest = await startIngest({ config: ingestConfig, logger: logger('audit-ingest'), broker: adapters.broker });
    started.push(ingest);
    output.progress('starting audit-event-generator');
    const generator = await startGenerator({ config: generatorConfig, logger: logger('audit-event-generator'), broker: adapters.broker });
    started.push(generator);

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
      `  exceptions file       ${exceptionsFile}`,
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

/** EXCEPTIONS_FILE when set, else `exceptions.yaml` in DATA_DIR, beside the embedded database. */
export function exceptionsFileOf(env: Env, dataDir: string): string {
  const set = (env['EXCEPTIONS_FILE'] ?? '').trim();
  return set === '' ? join(dataDir, 'exceptions.yaml') : set;
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
