/**
 * The Sigma `condition` expression of a detection: selection names combined
 * with and/or/not and parentheses, plus the quantifiers `1 of sel*`,
 * `all of sel*`, `1 of them` and `all of them`. `not` binds tighter than
 * `and`, which binds tighter than `or`, as in Sigma.
 */
export type ConditionNode =
  | { kind: 'ref'; name: string }
  | { kind: 'not'; operand: ConditionNode }
  | { kind: 'and' | 'or'; operands: ConditionNode[] };

/** A parse failure at a 0-based offset of the condition text. */
export class ConditionSyntaxError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'ConditionSyntaxError';
    this.offset = offset;
  }
}

interface Token {
  text: string;
  offset: number;
}

const TOKEN = /\s*(\(|\)|[A-Za-z0-9_*.-]+)/y;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let position = 0;
  while (position < text.length) {
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(text);
    if (!match) {
      if (text.slice(position).trim() === '') break;
      const offset = position + (text.slice(position).length - text.slice(position).trimStart().length);
      if (text[offset] === '|') {
        throw new ConditionSyntaxError("Sigma aggregations ('| count() by ...', '| near') are not supported; write a correlation rule", offset);
      }
      throw new ConditionSyntaxError(`unexpected character '${text[offset]}' in condition`, offset);
    }
    const word = match[1] ?? '';
    tokens.push({ text: word, offset: TOKEN.lastIndex - word.length });
    position = TOKEN.lastIndex;
  }
  return tokens;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them', 'all']);

/** Parses and resolves a condition against the selection names it may use. */
export function parseCondition(text: string, selections: readonly string[]): ConditionNode {
  const tokens = tokenize(text);
  let index = 0;
  const peek = (): Token | undefined => tokens[index];
  const endOffset = text.length;

  const expect = (word: string): void => {
    const token = peek();
    if (token?.text !== word) {
      throw new ConditionSyntaxError(`expected '${word}'`, token?.offset ?? endOffset);
    }
    index++;
  };

  const parseOr = (): ConditionNode => {
    const operands = [parseAnd()];
    while (peek()?.text === 'or') {
      index++;
      operands.push(parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'or', operands };
  };

  const parseAnd = (): ConditionNode => {
    const operands = [parseNot()];
    while (peek()?.text === 'and') {
      index++;
      operands.push(parseNot());
    }
    return operands.length === 1 ? operands[0]! : { kind: 'and', operands };
  };

  const parseNot = (): ConditionNode => {
    if (peek()?.text === 'not') {
      index++;
      return { kind: 'not', operand: parseNot() };
    }
    return parsePrimary();
  };

  const parsePrimary = (): ConditionNode => {
    const token = peek();
    if (token === undefined) throw new ConditionSyntaxError('condition ends too early', endOffset);
    if (token.text === '(') {
      index++;
      const inner = parseOr();
      expect(')');
      return inner;
    }
    if (token.text === '1' || token.text === 'all' || token.text === 'any') {
      if (tokens[index + 1]?.text === 'of') return parseQuantifier(token);
    }
    if (KEYWORDS.has(token.text) || token.text === ')') {
      throw new ConditionSyntaxError(`unexpected '${token.text}'`, token.offset);
    }
    index++;
    if (token.text.includes('*')) {
      throw new ConditionSyntaxError(`wildcard '${token.text}' needs '1 of' or 'all of'`, token.offset);
    }
    if (!selections.includes(token.text)) {
      throw new ConditionSyntaxError(`unknown selection '${token.text}'`, token.offset);
    }
    return { kind: 'ref', name: token.text };
  };

  const parseQuantifier = (quantifier: Token): ConditionNode => {
    index += 2;
    const target = peek();
    if (target === undefined || target.text === '(' || target.text === ')') {
      throw new ConditionSyntaxError(`'${quantifier.text} of' needs a selection pattern or 'them'`, target?.offset ?? endOffset);
    }
    index++;
    let names: string[];
    if (target.text === 'them') {
      names = selections.filter((name) => !name.startsWith('_'));
    } else {
      const pattern = new RegExp(`^${target.text.replace(/[.+?^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*')}$`);
      names = selections.filter((name) => pattern.test(name));
    }
    if (names.length === 0) {
      throw new ConditionSyntaxError(`'${target.text}' matches no selection`, target.offset);
    }
    const operands: ConditionNode[] = names.map((name) => ({ kind: 'ref', name }));
    if (operands.length === 1) return operands[0]!;
    return { kind: quantifier.text === 'all' ? 'and' : 'or', operands };
  };

  if (tokens.length === 0) throw new ConditionSyntaxError('condition is empty', 0);
  const tree = parseOr();
  const rest = peek();
  if (rest !== undefined) throw new ConditionSyntaxError(`unexpected '${rest.text}'`, rest.offset);
  return tree;
}

/** Compiles a condition tree into a predicate over the selection results. */
export function compileCondition<T>(
  node: ConditionNode,
  selections: ReadonlyMap<string, (input: T) => boolean>,
): (input: T) => boolean {
  switch (node.kind) {
    case 'ref': {
      const selection = selections.get(node.name);
      if (!selection) throw new Error(`selection ${node.name} is not compiled`);
      return selection;
    }
    case 'not': {
      const operand = compileCondition(node.operand, selections);
      return (input) => !operand(input);
    }
    case 'and': {
      const operands = node.operands.map((child) => compileCondition(child, selections));
      return (input) => operands.every((operand) => operand(input));
    }
    case 'or': {
      const operands = node.operands.map((child) => compileCondition(child, selections));
      return (input) => operands.some((operand) => operand(input));
    }
  }
}
