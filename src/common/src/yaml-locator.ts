import { type Document, isMap, isNode, isPair, isScalar, LineCounter, parseDocument } from 'yaml';

/** One problem of a YAML file, located so an editor can jump to it. */
export interface YamlProblem {
  line: number;
  column: number;
  /** Dotted path inside the document, e.g. `[2].correlation.timespan`. */
  path: string;
  message: string;
}

export type YamlPath = readonly (string | number)[];

/**
 * Turns a path inside one YAML document into a line and column, so every
 * problem of a configuration file (rules, outputs) points at the offending key or value. A path that
 * does not exist (a missing key) points at its nearest existing parent.
 */
export class YamlLocator {
  readonly #document: Document;
  readonly #lines: LineCounter;
  readonly #label: string;
  readonly problems: YamlProblem[];

  constructor(document: Document, lines: LineCounter, label: string, problems: YamlProblem[]) {
    this.#document = document;
    this.#lines = lines;
    this.#label = label;
    this.problems = problems;
  }

  /** Reports a problem at the value of `path` (or at its key with `atKey`). */
  report(path: YamlPath, message: string, options: { atKey?: boolean } = {}): void {
    const offset = this.#offsetOf(path, options.atKey ?? false);
    const { line, col } = this.#lines.linePos(offset);
    this.problems.push({ line, column: col, path: this.describe(path), message });
  }

  /** Reports at an offset inside a scalar's text (e.g. a token of a condition). */
  reportInside(path: YamlPath, innerOffset: number, message: string): void {
    const node = this.#document.getIn(path, true);
    let offset = this.#offsetOf(path, false);
    if (isScalar(node) && node.range) {
      const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
      const plainOrQuoted = node.type === 'PLAIN' || quoted;
      if (plainOrQuoted && !String(node.source ?? node.value).includes('\n')) offset = node.range[0] + (quoted ? 1 : 0) + innerOffset;
    }
    const { line, col } = this.#lines.linePos(offset);
    this.problems.push({ line, column: col, path: this.describe(path), message });
  }

  describe(path: YamlPath): string {
    let text = this.#label;
    for (const segment of path) text += typeof segment === 'number' ? `[${segment}]` : `.${segment}`;
    return text;
  }

  /** 1-based line of the document start. */
  documentLine(): number {
    const range = this.#document.contents?.range;
    return range ? this.#lines.linePos(range[0]).line : 1;
  }

  #offsetOf(path: YamlPath, atKey: boolean): number {
    for (let length = path.length; length >= 0; length--) {
      const prefix = path.slice(0, length);
      if (atKey && length === path.length && length > 0) {
        const parent = prefix.length === 1 ? this.#document.contents : this.#document.getIn(prefix.slice(0, -1), true);
        if (isMap(parent)) {
          const last = prefix[prefix.length - 1];
          const pair = parent.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === last);
          if (pair && isNode(pair.key) && pair.key.range) return pair.key.range[0];
        }
        continue;
      }
      const node = length === 0 ? this.#document.contents : this.#document.getIn(prefix, true);
      if (isNode(node) && node.range) return node.range[0];
    }
    return 0;
  }
}

/** The syntax errors of a parsed document as problems, each at its line and column. */
export function yamlSyntaxProblems(document: Document, lines: LineCounter, path = ''): YamlProblem[] {
  return document.errors.map((error) => {
    const { line, col } = lines.linePos(error.pos[0]);
    return { line, column: col, path, message: error.message.split('\n')[0] ?? error.message };
  });
}

/** A one-document YAML configuration file, parsed for validation. */
export interface ParsedYamlFile {
  document: Document;
  /** The syntax errors; while there are any, `document` holds nothing worth validating. */
  problems: YamlProblem[];
  /** Reports into `problems`. */
  at: YamlLocator;
}

/**
 * Parses a configuration file (duplicate keys are errors) so that it can be validated at
 * file:line:col: the outputs, exceptions and hosts files start here (the rules file, of several documents, shares yamlSyntaxProblems).
 */
export function parseYamlFile(text: string, label = ''): ParsedYamlFile {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems = yamlSyntaxProblems(document, lines);
  return { document, problems, at: new YamlLocator(document, lines, label, problems) };
}

/** Each problem as `file:line:col: message` (`file` names the file of a directory it is in), the form a ConfigError names them in. */
export function locatedProblems(fileName: string, problems: readonly (YamlProblem & { file?: string })[]): string[] {
  return problems.map((p) => `${p.file ?? fileName}:${p.line}:${p.column}: ${p.message}`);
}

/** The first problems of a file as one line, each at `file:line:col`, for an error message. */
export function problemSummary(fileName: string, problems: readonly (YamlProblem & { file?: string })[], max = 5): string {
  return locatedProblems(fileName, problems.slice(0, max)).join('; ');
}
