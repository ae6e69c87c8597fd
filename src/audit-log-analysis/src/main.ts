// First: sizes the heap for this service's memory budget before anything else runs.
import './size-memory.ts';
import { createAmqpBroker, createLogger, type Env, runService } from '@auditflow/common';
import { type AnalysisFiles, loadAnalysisFiles } from './analysis-files.ts';
import { type AnalysisConfig, loadAnalysisConfig, SERVICE_NAME } from './config.ts';
import { type LoadedEnrichment, loadEnrichment } from './enrichment/load-enrichment.ts';
import { startAnalysis } from './service/start-analysis.ts';
import { RedisWindowStore } from './store/redis-window-store.ts';

/**
 * Configuration plus the validated rules, exceptions and enrichment data: each is configuration,
 * so a bad one stops the process with exit code 78 naming its variable before anything connects.
 */
function loadStandaloneConfig(env: Env): AnalysisConfig & AnalysisFiles & { loadedEnrichment: LoadedEnrichment | undefined } {
  const config = loadAnalysisConfig(env, { standalone: true });
  const files = loadAnalysisFiles(config, createLogger({ service: SERVICE_NAME, level: config.base.logLevel }));
  return { ...config, ...files, loadedEnrichment: loadEnrichment(config.enrichment) };
}

await runService({
  name: SERVICE_NAME,
  loadConfig: loadStandaloneConfig,
  start: (config, logger, { own }) =>
    startAnalysis({
      config,
      logger,
      broker: own(createAmqpBroker(config.rabbit.url!, config.rabbit, logger, SERVICE_NAME)),
      // No wait for Redis here: while it is down, readiness says so and events are retried, not lost.
      windowStore: own(new RedisWindowStore({ url: config.redis.url!, keyPrefix: config.redis.keyPrefix })),
      rules: config.rules,
      enrichment: config.loadedEnrichment ?? null,
      ...(config.exceptions ? { exceptions: config.exceptions } : {}),
    }),
});
