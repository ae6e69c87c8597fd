import type { EnvReader } from './config.ts';

/**
 * Environment variables declared in code: each with its type, default,
 * bounds and a description. The declaration is the one home of the fact;
 * reading (through EnvReader, so every bad variable is named at once), the
 * docs/configuration.md tables and the port checks are derived from it.
 */
interface Described {
  /** One line for docs/configuration.md. */
  description: string;
  /** The default as the documentation shows it, when it is not one literal ("per service", "all"). */
  shown?: string;
}
export interface PortVar extends Described {
  type: 'port';
  default: number;
  /** The listener also takes UDP on this port (syslog). */
  udp?: boolean;
}
export interface IntVar extends Described {
  type: 'int';
  default: number;
  min?: number;
  max?: number;
}
export interface NumberVar extends Described {
  type: 'number';
  default?: number;
  min?: number;
  max?: number;
}
export interface StringVar extends Described {
  type: 'string';
  /** Absent: the variable is optional (shown as `-`). */
  default?: string;
}
/** A credential or token: never logged, shown without a default. */
export interface SecretVar extends Described {
  type: 'secret';
}
export interface UrlVar extends Described {
  type: 'url';
  protocols: readonly string[];
}
export interface ListVar extends Described {
  type: 'list';
  default?: readonly string[];
}
export interface BoolVar extends Described {
  type: 'bool';
  default: boolean;
}
export interface EnumVar<T extends string = string> extends Described {
  type: 'enum';
  values: readonly T[];
  default: T;
}
export type EnvVar = PortVar | IntVar | NumberVar | StringVar | SecretVar | UrlVar | ListVar | BoolVar | EnumVar;
export type EnvSpec = Readonly<Record<string, EnvVar>>;

type ValueOf<V extends EnvVar> = V extends PortVar | IntVar
  ? number
  : V extends NumberVar
    ? V extends { default: number }
      ? number
      : number | undefined
    : V extends BoolVar
      ? boolean
      : V extends EnumVar<infer T>
        ? T
        : V extends UrlVar
          ? URL | undefined
          : V extends ListVar
            ? string[]
            : V extends { default: string }
              ? string
              : string | undefined;
export type EnvValues<S extends EnvSpec> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** Keeps the literal types of a declaration (enum values, names) for readEnv. */
export function defineEnv<const S extends EnvSpec>(spec: S): S {
  return spec;
}

function readOne(name: string, variable: EnvVar, reader: EnvReader): unknown {
  switch (variable.type) {
    case 'port':
      return reader.port(name, variable.default);
    case 'int':
      return reader.int(name, variable.default, { min: variable.min, max: variable.max });
    case 'number':
      return variable.default === undefined
        ? reader.optionalNumber(name, { min: variable.min, max: variable.max })
        : reader.number(name, variable.default, { min: variable.min, max: variable.max });
    case 'bool':
      return reader.bool(name, variable.default);
    case 'enum':
      return reader.oneOf(name, variable.values, variable.default);
    case 'url':
      return reader.url(name, variable.protocols);
    case 'list':
      return reader.list(name, variable.default);
    case 'secret':
      return reader.raw(name);
    default:
      return variable.default === undefined ? reader.string(name) : reader.string(name, variable.default);
  }
}

/** Reads every declared variable; problems are collected by `reader` (call reader.done()). */
export function readEnv<S extends EnvSpec>(spec: S, reader: EnvReader): EnvValues<S> {
  const values: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(spec)) values[name] = readOne(name, variable, reader);
  return values as EnvValues<S>;
}

/**
 * One reader per declared variable, for configurations that read some only
 * in some cases (a split host/port only when no URL is set): the name is
 * written once, in the declaration, and an undeclared one does not compile.
 */
export function envAccessors<S extends EnvSpec>(spec: S, reader: EnvReader): { [K in keyof S]: () => ValueOf<S[K]> } {
  const accessors: Record<string, () => unknown> = {};
  for (const [name, variable] of Object.entries(spec)) accessors[name] = () => readOne(name, variable, reader);
  return accessors as { [K in keyof S]: () => ValueOf<S[K]> };
}

/** The declared port variables as port claims: what must be free before anything with state opens. */
export function portClaims(spec: EnvSpec, values: Readonly<Record<string, unknown>>, host: string): { port: number; host: string; variable: string; udp?: boolean }[] {
  return Object.entries(spec)
    .filter((entry): entry is [string, PortVar] => entry[1].type === 'port')
    .map(([variable, declared]) => ({ port: Number(values[variable]), host, variable, ...(declared.udp ? { udp: true } : {}) }));
}

function shownDefault(variable: EnvVar): string {
  if (variable.shown !== undefined) return variable.shown;
  if (!('default' in variable) || variable.default === undefined) return '-';
  const value = Array.isArray(variable.default) ? variable.default.join(',') : String(variable.default);
  return value === '' ? '-' : `\`${value}\``;
}

function meaning(variable: EnvVar): string {
  const extra =
    variable.type === 'enum'
      ? `one of ${variable.values.map((v) => `\`${v}\``).join(', ')}`
      : (variable.type === 'int' || variable.type === 'number') && (variable.min !== undefined || variable.max !== undefined)
        ? `(${variable.min ?? '…'}..${variable.max ?? '…'})`
        : variable.type === 'port' && variable.udp
          ? '(TCP and UDP)'
          : '';
  return [variable.description, extra].filter((part) => part !== '').join(' ');
}

/** The markdown table of a declaration, as docs/configuration.md shows it. */
export function envTable(spec: EnvSpec): string {
  const rows = Object.entries(spec).map(([name, variable]) => {
    const text = meaning(variable);
    return `| \`${name}\` | ${shownDefault(variable)} |${text === '' ? '' : ` ${text}`} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

/** Replaces the generated block `<!-- env:<id> -->` … `<!-- /env:<id> -->` of a document. */
export function replaceEnvBlock(document: string, id: string, table: string): string {
  const start = `<!-- env:${id} (generated from the declaration; do not edit) -->`;
  const end = `<!-- /env:${id} -->`;
  const from = document.indexOf(start);
  const to = document.indexOf(end);
  if (from < 0 || to < from) throw new Error(`the document has no generated block ${start} … ${end}`);
  return `${document.slice(0, from + start.length)}\n${table}\n${document.slice(to)}`;
}

