// A deliberately small Dockerfile reader: enough of the Dockerfile grammar to check the
// repository's own images against their policy before any engine builds them.
// Anything it does not understand is an error rather than a silent skip, so a Dockerfile
// that grows a new feature makes the delivery tests fail until they learn it.

export interface Instruction {
  keyword: string;
  /** Raw argument text after the keyword, continuation lines joined. */
  args: string;
  /** 1-based line of the keyword. */
  line: number;
}

export interface Stage {
  index: number;
  name: string | undefined;
  /** Base image reference or earlier stage name, variables already substituted. */
  from: string;
  platform: string | undefined;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  /** ARG instructions before the first FROM, with their default values. */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
}

export interface Flagged {
  flags: Map<string, string>;
  rest: string;
}

const KNOWN = new Set([
  'FROM',
  'ARG',
  'ENV',
  'WORKDIR',
  'COPY',
  'ADD',
  'RUN',
  'USER',
  'EXPOSE',
  'CMD',
  'ENTRYPOINT',
  'HEALTHCHECK',
  'STOPSIGNAL',
  'LABEL',
  'SHELL',
  'VOLUME',
  'ONBUILD',
]);

/** Splits a Dockerfile into instructions: comments dropped, `\` continuations joined. */
export function tokenize(text: string): Instruction[] {
  const lines = text.split(/\r?\n/);
  const out: Instruction[] = [];
  let current: { parts: string[]; line: number } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trim();
    // Docker drops comment lines even in the middle of a continued instruction.
    if (trimmed.startsWith('#')) continue;
    if (current === undefined && trimmed === '') continue;
    const continues = /\\\s*$/.test(raw);
    const body = continues ? raw.replace(/\\\s*$/, '') : raw;
    if (current === undefined) current = { parts: [], line: i + 1 };
    current.parts.push(body.trim());
    if (!continues) {
      const joined = current.parts.filter((p) => p !== '').join(' ');
      const match = /^(\S+)\s*(.*)$/s.exec(joined);
      if (match) {
        const keyword = (match[1] ?? '').toUpperCase();
        if (!KNOWN.has(keyword)) throw new Error(`line ${current.line}: unknown instruction ${keyword}`);
        out.push({ keyword, args: (match[2] ?? '').trim(), line: current.line });
      }
      current = undefined;
    }
  }
  if (current !== undefined) throw new Error(`line ${current.line}: dangling line continuation`);
  return out;
}

/** Substitutes `$VAR`, `${VAR}` and `${VAR:-default}` the way Docker does for FROM/ENV/COPY. */
export function substitute(value: string, vars: ReadonlyMap<string, string | undefined>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_m, braced, fallback, bare) => {
    const name = (braced ?? bare) as string;
    const found = vars.get(name);
    if (found !== undefined && found !== '') return found;
    return (fallback as string | undefined) ?? '';
  });
}

/** Peels leading `--name=value` flags off an instruction's arguments. */
export function splitFlags(args: string): Flagged {
  const flags = new Map<string, string>();
  let rest = args;
  for (;;) {
    const match = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest);
    if (!match) break;
    const name = match[1] ?? '';
    const value = match[2] ?? 'true';
    // --mount may repeat; keep every occurrence.
    flags.set(name, flags.has(name) ? `${flags.get(name)}\n${value}` : value);
    rest = rest.slice(match[0].length);
  }
  return { flags, rest: rest.trim() };
}

/** Parses the JSON (exec) form of CMD/ENTRYPOINT; returns undefined for the shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
    throw new Error(`exec form must be a JSON array of strings: ${args}`);
  }
  return parsed as string[];
}

/** Parses `KEY=value KEY2="value two"` (ENV, LABEL, ARG) into pairs. */
export function keyValues(args: string): Array<[string, string | undefined]> {
  const out: Array<[string, string | undefined]> = [];
  const legacy = /^([A-Za-z_][A-Za-z0-9_]*)\s+([^=]+)$/.exec(args);
  if (legacy) {
    // The legacy `ENV KEY value` form.
    out.push([legacy[1] ?? '', (legacy[2] ?? '').trim()]);
    return out;
  }
  const re = /([A-Za-z_][A-Za-z0-9_.-]*)(?:=("(?:[^"\\]|\\.)*"|'[^']*'|\S*))?/g;
  for (let m = re.exec(args); m !== null; m = re.exec(args)) {
    const key = m[1] ?? '';
    let value = m[2];
    if (value !== undefined && value.length >= 2 && (value.startsWith('"') || value.startsWith("'"))) {
      value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    }
    out.push([key, value]);
  }
  return out;
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const instructions = tokenize(text);
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  let stage: Stage | undefined;
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const { flags, rest } = splitFlags(ins.args);
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!match) throw new Error(`line ${ins.line}: cannot parse FROM ${ins.args}`);
      stage = {
        index: stages.length,
        name: match[2]?.toLowerCase(),
        from: substitute(match[1] ?? '', globalArgs),
        platform: flags.get('platform'),
        instructions: [],
      };
      stages.push(stage);
      continue;
    }
    if (stage === undefined) {
      if (ins.keyword !== 'ARG') throw new Error(`line ${ins.line}: ${ins.keyword} before the first FROM`);
      for (const [k, v] of keyValues(ins.args)) globalArgs.set(k, v);
      continue;
    }
    stage.instructions.push(ins);
  }
  if (stages.length === 0) throw new Error('no FROM instruction');
  return { globalArgs, stages };
}

/** Matches a `--mount` flag value such as `type=cache,target=/root/.npm`. */
export function parseMount(spec: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of spec.split(',')) {
    const [k, v] = part.split('=', 2);
    out.set(k ?? '', v ?? 'true');
  }
  return out;
}
