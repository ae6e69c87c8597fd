import { AuditFlowError } from '@auditflow/common';

/** A scenario name the generator does not know: 404 on the API, a usage error on the CLI. */
export class UnknownScenarioError extends AuditFlowError {
  readonly scenario: string;
  constructor(scenario: string, known: readonly string[]) {
    super('AF_UNKNOWN_SCENARIO', `unknown scenario '${scenario}'; known: ${known.join(', ')}`, {
      statusCode: 404,
      details: { scenario, known },
    });
    this.scenario = scenario;
  }
}

/** Scenario options that would stop the scenario from triggering its rule (e.g. an allowlisted sudo user). */
export class ScenarioOptionError extends AuditFlowError {
  constructor(message: string, details?: unknown) {
    super('AF_SCENARIO_OPTION_INVALID', message, { statusCode: 400, details });
  }
}

/** An event template name that does not exist (programming or CLI input error). */
export class UnknownTemplateError extends AuditFlowError {
  constructor(template: string, known: readonly string[]) {
    super('AF_UNKNOWN_TEMPLATE', `unknown event template '${template}'; known: ${known.join(', ')}`, {
      statusCode: 400,
      details: { template, known },
    });
  }
}
