import { existsSync } from 'node:fs';
import { ConfigError, type Logger } from '@auditflow/common';
import { ExceptionsFileError } from '@auditflow/common/exceptions-file';
import { locatedProblems } from '@auditflow/common/platform';
import type { AnalysisConfig } from './config.ts';
import { ExceptionsSource } from './exceptions/exceptions-source.ts';
import type { RuleSet } from './rules/rule-set.ts';
import { RulesError } from './rules/rules-error.ts';
import { loadRulesFileSync } from './rules/rules-file.ts';

export interface AnalysisFiles {
  rules: RuleSet;
  /** Undefined without EXCEPTIONS_FILE, or when it may be absent and is (startAnalysis then opens it). */
  exceptions: ExceptionsSource | undefined;
}

/**
 * The rules and exceptions files, read and validated in full. They are configuration, so every
 * problem becomes a ConfigError naming RULES_FILE or EXCEPTIONS_FILE with its file:line:column
 * (exit 78), raised before anything connects: the standalone service and the all-in-one both
 * call this first, so a broken file never leaves half a platform running.
 */
export function loadAnalysisFiles(
  config: Pick<AnalysisConfig, 'rulesFile' | 'exceptionsFile' | 'exceptionsReloadMs'>,
  logger: Logger,
  options: { exceptionsMayBeAbsent?: boolean } = {},
): AnalysisFiles {
  let rules: RuleSet;
  try {
    rules = loadRulesFileSync(config.rulesFile);
  } catch (error) {
    if (!(error instanceof RulesError)) throw error;
    throw new ConfigError(locatedProblems(error.fileName, error.problems).map((problem) => ({ variable: 'RULES_FILE', problem })));
  }
  const path = config.exceptionsFile;
  if (path === undefined || (options.exceptionsMayBeAbsent && !existsSync(path))) return { rules, exceptions: undefined };
  try {
    return { rules, exceptions: openExceptions(path, rules, config, logger) };
  } catch (error) {
    if (!(error instanceof ExceptionsFileError)) throw error;
    throw new ConfigError(error.located.map((problem) => ({ variable: 'EXCEPTIONS_FILE', problem })));
  }
}

/** EXCEPTIONS_FILE, its rule ids checked against `rules`; throws ExceptionsFileError (AF_EXCEPTIONS_INVALID) when invalid. */
export function openExceptions(path: string, rules: RuleSet, config: Pick<AnalysisConfig, 'exceptionsReloadMs'>, logger: Logger): ExceptionsSource {
  const ruleIds = new Set(rules.rules.map((rule) => rule.id));
  return new ExceptionsSource({ path, isKnownRule: (id) => ruleIds.has(id), reloadMs: config.exceptionsReloadMs, logger });
}
