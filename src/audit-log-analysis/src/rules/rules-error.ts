import { AfRulesInvalidError, problemSummary } from '@auditflow/common/platform';

import type { YamlProblem } from '@auditflow/common';

/** One problem of a rules file, located so an editor can jump to it; `file` names it in a rules directory. */
export type RuleProblem = YamlProblem & { file?: string };

/** A rules file that cannot be loaded; every problem is reported at once. */
export class RulesError extends AfRulesInvalidError {
  readonly problems: RuleProblem[];
  readonly fileName: string;

  constructor(fileName: string, problems: RuleProblem[]) {
    super(fileName, problemSummary(fileName, problems), { details: problems });
    this.problems = problems;
    this.fileName = fileName;
  }
}
