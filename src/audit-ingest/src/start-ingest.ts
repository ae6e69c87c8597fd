import {
  createHttpServer,
  createMetricsServer,
  createRegistry,
  HealthRegistry,
  type Logger,
  type MessageBroker,
  type Registry,
  type ServiceHandle,
  startHttpService,
} from '@auditflow/common';

/** A wildcard bind is reachable on loopback: the address a person can paste. */
function shownHost(host: string): string {
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}
import type { FastifyInstance } from 'fastify';
import type { IngestConfig } from './config.ts';
import { registerIngestRoutes } from './http/routes.ts';
import { type SyslogServer, startSyslogServer } from './listeners/syslog-server.ts';
import { createIngestMetrics, type IngestMetrics } from './metrics.ts';
import { Normaliser } from './normalise/normaliser.ts';
import { ZoneOffset } from './normalise/syslog-parser.ts';
import { IngestPipeline } from './pipeline.ts';

export const SERVICE_NAME = 'audit-ingest';

export interface StartIngestOptions {
  config: IngestConfig;
  logger: Logger;
  /** Owned by the caller: stop() leaves it open. */
  broker: MessageBroker;
  clock?: () => number;
}

export interface IngestHandle extends ServiceHandle {
  readonly app: FastifyInstance;
  readonly registry: Registry;
  readonly metrics: IngestMetrics;
  readonly pipeline: IngestPipeline;
  readonly syslog: SyslogServer | undefined;
  readonly httpPort: number;
}

/**
 * Starts audit-ingest on an injected broker: the webhook/JSON-lines HTTP
 * server on config.appPort (HTTPS when INGEST_TLS_* is set), /metrics on
 * config.metricsPort and the syslog listeners on config.syslogPort.
 */
export async function startIngest(options: StartIngestOptions): Promise<IngestHandle> {
  const { config, broker, logger } = options;
  const registry = createRegistry(SERVICE_NAME);
  const metrics = createIngestMetrics(registry);
  metrics.connectionStatus.set(broker.isConnected() ? 1 : 0);
  broker.onConnectionChange((connected) => metrics.connectionStatus.set(connected ? 1 : 0));

  const pipeline = new IngestPipeline({
    broker,
    queue: config.queue,
    deadLetterQueue: config.deadLetterQueue,
    metrics,
    maxInFlight: config.maxInFlight,
  });
  // Declared in the background so /readyz can report it; every publish waits for it anyway.
  pipeline.ensureQueues().catch((error: unknown) => logger.warn({ err: error }, 'declaring the queues failed; retrying on first use'));
  const normaliser = new Normaliser({
    clusterName: config.clusterName,
    zone: new ZoneOffset(config.syslogTimezone),
    ...(options.clock ? { clock: options.clock } : {}),
  });

  const health = new HealthRegistry();
  health.register('rabbitmq', () => broker.check());
  health.register('queues', () => pipeline.ensureQueues());

  const tls = config.httpTls;
  const app = createHttpServer({
    logger,
    health,
    instrumentRegistry: registry,
    bodyLimit: config.maxBodyBytes,
    // The client certificate is optional at the TLS layer so bearer-token senders can connect too; routes check either.
    ...(tls ? { https: { cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: false } : {}), minVersion: 'TLSv1.2' as const } } : {}),
  });
  registerIngestRoutes(app, {
    normaliser,
    pipeline,
    auth: { tokens: config.tokens, clientCertificates: tls?.ca !== undefined, allowUnauthenticated: config.allowUnauthenticated },
    maxBodyBytes: config.maxBodyBytes,
    maxBatchEvents: config.maxBatchEvents,
    retryAfterSeconds: config.retryAfterSeconds,
    transport: tls ? 'https' : 'http',
    onRejected: (reason) => metrics.rejected.inc({ reason }),
  });
  const metricsApp = createMetricsServer({ logger, registry });

  let syslog: SyslogServer | undefined;
  // The same start-up as every service: HTTP listeners, then syslog; a busy port names its variable.
  const service = await startHttpService({
    name: SERVICE_NAME,
    host: config.host,
    health,
    listeners: [
      { name: 'http', app, port: config.appPort, variable: 'APP_PORT', scheme: tls ? 'https' : 'http' },
      { name: 'metrics', app: metricsApp, port: config.metricsPort, variable: 'PROMETHEUS_PORT', path: '/metrics' },
    ],
    listenOthers: async () => {
      if (!config.syslogEnabled) return {};
      syslog = await startSyslogServer({
        host: config.host,
        port: config.syslogPort,
        tls: config.syslogTls,
        tlsPort: config.syslogTlsPort,
        maxMessageBytes: config.syslogMaxMessageBytes,
        normaliser,
        pipeline,
        metrics,
        logger: logger.child({ component: 'syslog' }),
      });
      const shown = shownHost(config.host);
      return {
        syslog_tcp: `tcp://${shown}:${syslog.tcpPort}`,
        syslog_udp: `udp://${shown}:${syslog.udpPort}`,
        ...(syslog.tlsPort === undefined ? {} : { syslog_tls: `tls://${shown}:${syslog.tlsPort}` }),
      };
    },
    // Syslog senders stop first, and what they sent is confirmed before the HTTP servers close.
    drain: () => syslog?.close(Math.max(1000, config.base.shutdownTimeoutMs - 5000)),
  });
  logger.info({ queue: config.queue, dead_letter_queue: config.deadLetterQueue, cluster: config.clusterName }, 'ingest configured');

  return {
    ...service,
    app,
    registry,
    metrics,
    pipeline,
    syslog,
    httpPort: service.ports['http']!,
  };
}
