import { AfScenarioOptionInvalidError, AfUnknownScenarioError, AfUnknownTemplateError } from '@auditflow/common/platform';

/** A scenario name the generator does not know: 404 on the API, a usage error on the CLI. */
export class UnknownScenarioError extends AfUnknownScenarioError {
  readonly scenario: string;
  constructor(scenario: string, known: readonly string[]) {
    super(scenario, known.join(', '), { details: { scenario, known } });
    this.scenario = scenario;
  }
}

/** Scenario options that would stop the scenario from triggering its rule (e.g. an allowlisted sudo user). */
export class ScenarioOptionError extends AfScenarioOptionInvalidError {
  constructor(message: string, details?: unknown) {
    super(message, { details });
  }
}

/** An event template name that does not exist (programming or CLI input error). */
export class UnknownTemplateError extends AfUnknownTemplateError {
  constructor(template: string, known: readonly string[]) {
    super(template, known.join(', '), { details: { template, known } });
  }
}
