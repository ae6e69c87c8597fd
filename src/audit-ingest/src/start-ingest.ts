import {
  createHttpServer,
  createMetricsServer,
  createRegistry,
  HealthRegistry,
  listen,
  type Logger,
  type MessageBroker,
  type Registry,
  type ServiceHandle,
} from '@auditflow/common';
import type { FastifyInstance } from 'fastify';
import type { IngestConfig } from './config.ts';
import { registerIngestRoutes } from './http/routes.ts';
import { SenderPolicy } from './listeners/sender-policy.ts';
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
    timeBounds: config.timeBounds,
    onClockSkew: (event, direction) => {
      metrics.clockSkew.inc({ direction });
      logger.warn(
        { correlation_id: event.event_id, server_hostname: event.server_hostname, claimed: event.clock_skew?.claimed_timestamp, peer: event.source?.peer, direction },
        'event time outside the allowed skew; the receive time is used',
      );
    },
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
  let httpPort: number;
  let metricsPort: number;
  try {
    httpPort = await listen(app, config.appPort, config.host);
    metricsPort = await listen(metricsApp, config.metricsPort, config.host);
    if (config.syslogEnabled) {
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
        plain: config.syslogPlainEnabled,
        senders: new SenderPolicy(config.syslogAllowedSenders, config.syslogSenderHosts),
        idleTimeoutMs: config.syslogIdleTimeoutMs,
        maxConnections: config.syslogMaxConnections,
      });
    }
  } catch (error) {
    await Promise.allSettled([app.close(), metricsApp.close()]);
    throw error;
  }

  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const urls: Record<string, string> = {
    http: `${tls ? 'https' : 'http'}://${shownHost}:${httpPort}`,
    metrics: `http://${shownHost}:${metricsPort}/metrics`,
  };
  if (syslog) {
    if (syslog.tcpPort !== undefined) urls['syslog_tcp'] = `tcp://${shownHost}:${syslog.tcpPort}`;
    if (syslog.udpPort !== undefined) urls['syslog_udp'] = `udp://${shownHost}:${syslog.udpPort}`;
    if (syslog.tlsPort !== undefined) urls['syslog_tls'] = `tls://${shownHost}:${syslog.tlsPort}`;
  }
  logger.info({ queue: config.queue, dead_letter_queue: config.deadLetterQueue, cluster: config.clusterName }, 'ingest configured');

  let stopped: Promise<void> | undefined;
  return {
    name: SERVICE_NAME,
    urls,
    app,
    registry,
    metrics,
    pipeline,
    syslog,
    httpPort,
    stop: () => {
      stopped ??= (async () => {
        health.startDraining();
        await syslog?.close(Math.max(1000, config.base.shutdownTimeoutMs - 5000));
        await app.close();
        await metricsApp.close();
      })();
      return stopped;
    },
  };
}
