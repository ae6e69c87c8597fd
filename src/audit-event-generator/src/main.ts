// First: sizes the heap for this service's memory budget before anything else runs.
import './size-memory.ts';
import {
  type Env,
  EnvReader,
  createAmqpBroker,
  requireBrokerUrl,
  runService,
} from '@auditflow/common';
import { type GeneratorConfig, loadGeneratorConfig } from './config.ts';
import { SERVICE_NAME, startGenerator } from './generator.ts';

/**
 * Standalone entry point: alone, the generator needs a real RabbitMQ
 * (RABBITMQ_URL or RABBITMQ_HOST); only the all-in-one runner may embed one.
 */
function loadStandaloneConfig(env: Env): GeneratorConfig & { brokerUrl: string } {
  const config = loadGeneratorConfig(env);
  const reader = new EnvReader(env);
  const brokerUrl = requireBrokerUrl(reader, config.rabbit);
  reader.done();
  return { ...config, brokerUrl };
}

await runService({
  name: SERVICE_NAME,
  loadConfig: loadStandaloneConfig,
  // Closing the broker after the generator stopped flushes the publisher after the last confirm.
  start: (config, logger, { own }) =>
    startGenerator({ config, logger, broker: own(createAmqpBroker(config.brokerUrl, config.rabbit, logger, SERVICE_NAME)) }),
});
