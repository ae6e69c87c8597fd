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
export interface StringVar extends Described {
  type: 'string';
  default: string;
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
export type EnvVar = PortVar | IntVar | StringVar | BoolVar | EnumVar;
export type EnvSpec = Readonly<Record<string, EnvVar>>;

type ValueOf<V extends EnvVar> = V extends PortVar | IntVar ? number : V extends BoolVar ? boolean : V extends EnumVar<infer T> ? T : string;
export type EnvValues<S extends EnvSpec> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/** Keeps the literal types of a declaration (enum values, names) for readEnv. */
export function defineEnv<const S extends EnvSpec>(spec: S): S {
  return spec;
}

/** Reads every declared variable; problems are collected by `reader` (call reader.done()). */
export function readEnv<S extends EnvSpec>(spec: S, reader: EnvReader): EnvValues<S> {
  const values: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(spec)) {
    switch (variable.type) {
      case 'port':
        values[name] = reader.port(name, variable.default);
        break;
      case 'int':
        values[name] = reader.int(name, variable.default, { min: variable.min, max: variable.max });
        break;
      case 'bool':
        values[name] = reader.bool(name, variable.default);
        break;
      case 'enum':
        values[name] = reader.oneOf(name, variable.values, variable.default);
        break;
      default:
        values[name] = reader.string(name, variable.default);
    }
  }
  return values as EnvValues<S>;
}

/** The declared port variables as port claims: what must be free before anything with state opens. */
export function portClaims(spec: EnvSpec, values: Readonly<Record<string, unknown>>, host: string): { port: number; host: string; variable: string; udp?: boolean }[] {
  return Object.entries(spec)
    .filter((entry): entry is [string, PortVar] => entry[1].type === 'port')
    .map(([variable, declared]) => ({ port: Number(values[variable]), host, variable, ...(declared.udp ? { udp: true } : {}) }));
}

function shownDefault(variable: EnvVar): string {
  return `\`${String(variable.default)}\``;
}

function meaning(variable: EnvVar): string {
  const extra =
    variable.type === 'enum'
      ? ` (${variable.values.map((v) => `\`${v}\``).join(', ')})`
      : variable.type === 'int' && (variable.min !== undefined || variable.max !== undefined)
        ? ` (${variable.min ?? '…'}..${variable.max ?? '…'})`
        : variable.type === 'port'
          ? variable.udp
            ? ' (TCP and UDP)'
            : ''
          : '';
  return `${variable.description}${extra}`;
}

/** The markdown table of a declaration, as docs/configuration.md shows it. */
export function envTable(spec: EnvSpec): string {
  const rows = Object.entries(spec).map(([name, variable]) => `| \`${name}\` | ${shownDefault(variable)} | ${meaning(variable)} |`);
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

