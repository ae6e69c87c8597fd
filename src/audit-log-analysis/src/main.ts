// First: sizes the heap for this service's memory budget before anything else runs.
import './size-memory.ts';
import { ConfigError, createAmqpBroker, type Env, runService } from '@auditflow/common';
import { type AnalysisConfig, loadAnalysisConfig, SERVICE_NAME } from './config.ts';
import type { RuleSet } from './rules/rule-set.ts';
import { RulesError } from './rules/rules-error.ts';
import { loadRulesFileSync } from './rules/rules-file.ts';
import { type LoadedEnrichment, loadEnrichment } from './enrichment/load-enrichment.ts';
import { startAnalysis } from './service/start-analysis.ts';
import { RedisWindowStore } from './store/redis-window-store.ts';

/**
 * Configuration plus the validated rules: a bad rules file is bad configuration,
 * so it stops the process with exit code 78 naming RULES_FILE and every
 * file:line:column problem, before anything connects.
 */
function loadStandaloneConfig(env: Env): AnalysisConfig & { rules: RuleSet; loadedEnrichment: LoadedEnrichment | undefined } {
  const config = loadAnalysisConfig(env, { standalone: true });
  try {
    const rules = loadRulesFileSync(config.rulesFile);
    // The databases and the hosts file are configuration too: unusable ones stop the start (exit 78) naming their variable.
    return { ...config, rules, loadedEnrichment: loadEnrichment(config.enrichment) };
  } catch (error) {
    if (!(error instanceof RulesError)) throw error;
    throw new ConfigError(
      error.problems.map((p) => ({ variable: 'RULES_FILE', problem: `${p.file ?? error.fileName}:${p.line}:${p.column}: ${p.message}` })),
    );
  }
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
    }),
});
