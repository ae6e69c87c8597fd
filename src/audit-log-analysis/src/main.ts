// First: sizes the heap for this service's memory budget before anything else runs.
import './size-memory.ts';
import { ConfigError, createAmqpBroker, createLogger, type Env, runService } from '@auditflow/common';
import { ExceptionsFileError } from '@auditflow/common/exceptions-file';
import { type AnalysisConfig, loadAnalysisConfig, SERVICE_NAME } from './config.ts';
import { ExceptionsSource } from './exceptions/exceptions-source.ts';
import type { RuleSet } from './rules/rule-set.ts';
import { RulesError } from './rules/rules-error.ts';
import { loadRulesFileSync } from './rules/rules-file.ts';
import { type LoadedEnrichment, loadEnrichment } from './enrichment/load-enrichment.ts';
import { startAnalysis } from './service/start-analysis.ts';
import { RedisWindowStore } from './store/redis-window-store.ts';

/**
 * Configuration plus the validated rules and exceptions: a bad rules or exceptions file is bad
 * configuration, so it stops the process with exit code 78 naming RULES_FILE or EXCEPTIONS_FILE
 * and every file:line:column problem, before anything connects.
 */
function loadStandaloneConfig(
  env: Env,
): AnalysisConfig & { rules: RuleSet; exceptions: ExceptionsSource | undefined; loadedEnrichment: LoadedEnrichment | undefined } {
  const config = loadAnalysisConfig(env, { standalone: true });
  let rules: RuleSet;
  try {
    rules = loadRulesFileSync(config.rulesFile);
  } catch (error) {
    if (!(error instanceof RulesError)) throw error;
    throw new ConfigError(
      error.problems.map((p) => ({ variable: 'RULES_FILE', problem: `${p.file ?? error.fileName}:${p.line}:${p.column}: ${p.message}` })),
    );
  }
  // The databases and the hosts file are configuration too: unusable ones stop the start (exit 78) naming their variable.
  const loadedEnrichment = loadEnrichment(config.enrichment);
  if (config.exceptionsFile === undefined) return { ...config, rules, exceptions: undefined, loadedEnrichment };
  const ruleIds = new Set(rules.rules.map((rule) => rule.id));
  try {
    const exceptions = new ExceptionsSource({
      path: config.exceptionsFile,
      isKnownRule: (id) => ruleIds.has(id),
      reloadMs: config.exceptionsReloadMs,
      logger: createLogger({ service: SERVICE_NAME, level: config.base.logLevel }),
    });
    return { ...config, rules, exceptions, loadedEnrichment };
  } catch (error) {
    if (!(error instanceof ExceptionsFileError)) throw error;
    throw new ConfigError(error.located.map((problem) => ({ variable: 'EXCEPTIONS_FILE', problem })));
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
      ...(config.exceptions ? { exceptions: config.exceptions } : {}),
    }),
});
