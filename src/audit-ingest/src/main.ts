// First: sizes the heap for this service's memory budget before anything else runs.
import './size-memory.ts';
import { type Env, EnvReader, createAmqpBroker, requireBrokerUrl, runService } from '@auditflow/common';
import { type IngestConfig, loadIngestConfig } from './config.ts';
import { SERVICE_NAME, startIngest } from './start-ingest.ts';

/** Standalone entry point: alone, the ingest service needs a real RabbitMQ (RABBITMQ_URL or RABBITMQ_HOST). */
function loadStandaloneConfig(env: Env): IngestConfig & { brokerUrl: string } {
  const reader = new EnvReader(env);
  const config = loadIngestConfig(env, { reader, deferDone: true });
  const brokerUrl = requireBrokerUrl(reader, config.rabbit);
  reader.done();
  return { ...config, brokerUrl };
}

await runService({
  name: SERVICE_NAME,
  loadConfig: loadStandaloneConfig,
  // Closing the broker after the service stopped flushes the publisher after the last confirm.
  start: (config, logger, { own }) =>
    startIngest({ config, logger, broker: own(createAmqpBroker(config.brokerUrl, config.rabbit, logger, SERVICE_NAME)) }),
});
