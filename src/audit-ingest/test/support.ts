import { connect } from 'node:net';
import type { Alert, MessageBroker } from '@auditflow/common';
import { AmqpBroker } from '@auditflow/common';
import { RABBITMQ_URL, silentLogger } from '../../common/test/support.ts';
import type { TestNames } from '../../audit-log-analysis/test/integration-support.ts';
import { loadIngestConfig } from '../src/config.ts';
import { type IngestHandle, startIngest } from '../src/start-ingest.ts';

export interface RunningIngest {
  handle: IngestHandle;
  broker: MessageBroker;
  stop(): Promise<void>;
}

/** One audit-ingest in this process on the real RabbitMQ, publishing to the test's event queue, on free loopback ports. */
export async function startTestIngest(names: TestNames, env: Record<string, string> = {}, brokerUrl = RABBITMQ_URL): Promise<RunningIngest> {
  const config = loadIngestConfig({
    RABBITMQ_URL: brokerUrl,
    RABBITMQ_QUEUE: names.queue,
    APP_PORT: '0',
    PROMETHEUS_PORT: '0',
    SYSLOG_PORT: '0',
    SYSLOG_TLS_PORT: '0',
    INGEST_AUTH: 'none',
    INGEST_CLUSTER_NAME: 'pi-cluster',
    LOG_LEVEL: 'silent',
    SHUTDOWN_TIMEOUT_MS: '6000',
    ...env,
  });
  const broker = new AmqpBroker({ url: config.rabbit.url!, logger: silentLogger, connectionName: 'ingest-test', queueType: config.rabbit.queueType });
  const handle = await startIngest({ config: { ...config, host: '127.0.0.1' }, logger: silentLogger, broker });
  return {
    handle,
    broker,
    stop: async () => {
      await handle.stop();
      await broker.close();
    },
  };
}

/** Writes bytes to a TCP port and closes once they are sent. */
export async function sendTcp(port: number, data: string | Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(data));
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
}

/** `rule id|group key values`: what tells two alerts of these tests apart. */
export function alertSignature(alert: Alert): string {
  const values = Object.values((alert.group_key ?? {}) as Record<string, string>).filter((value) => value !== '');
  return [alert.analysis_rule?.rule_id, ...values].join('|');
}

/** Distinct signatures of the alerts whose raw event is from one of `hosts` (syslog) or the cluster (audit). */
export function signatures(alerts: readonly Alert[], filter: (alert: Alert) => boolean = () => true): string[] {
  return [...new Set(alerts.filter(filter).map(alertSignature))].sort();
}
