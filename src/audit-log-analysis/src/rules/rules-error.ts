import { AuditFlowError } from '@auditflow/common';

import type { YamlProblem } from '@auditflow/common';

/** One problem of a rules file, located so an editor can jump to it; `file` names it in a rules directory. */
export type RuleProblem = YamlProblem & { file?: string };

/** A rules file that cannot be loaded; every problem is reported at once. */
export class RulesError extends AuditFlowError {
  readonly problems: RuleProblem[];
  readonly fileName: string;

  constructor(fileName: string, problems: RuleProblem[]) {
    const first = problems
      .slice(0, 5)
      .map((p) => `${p.file ?? fileName}:${p.line}:${p.column}: ${p.message}`)
      .join('; ');
    super('AF_RULES_INVALID', `invalid rules file ${fileName}: ${first}`, { statusCode: 400, details: problems });
    this.problems = problems;
    this.fileName = fileName;
  }
}
