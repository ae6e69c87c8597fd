// The OCI edge's Terraform, read offline: its HCL parsed by @cdktf/hcl2json, and its user data
// rendered the way compute.tf renders it, with the variables a test chooses.
//
// Terraform is not installable here, so the rendering follows compute.tf's own `locals` block:
// each templatefile() call, its variable map and the base64encode() of other locals are
// evaluated from the parsed HCL. The template language is limited to what the templates use
// (`${name}` and `%{ if name != "" }…%{ endif }`); anything else fails loudly instead of being
// rendered differently from Terraform.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

export const EDGE_DIR = new URL('../../../infra/terraform/oci-edge/', import.meta.url).pathname;

export type Hcl = Record<string, any>;

/** Every .tf file of the module, parsed and merged per top-level block type. */
export async function parseModule(dir = EDGE_DIR): Promise<{ merged: Hcl; files: Record<string, Hcl> }> {
  const files: Record<string, Hcl> = {};
  const merged: Hcl = {};
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.tf')).sort()) {
    const json = (await parse(f, readFileSync(join(dir, f), 'utf8'))) as Hcl;
    files[f] = json;
    for (const [block, body] of Object.entries(json)) {
      if (Array.isArray(body)) merged[block] = [...(merged[block] ?? []), ...body];
      else merged[block] = { ...(merged[block] ?? {}), ...body };
    }
  }
  return { merged, files };
}

/** Terraform's template syntax, the subset the edge's templates use. */
export function renderTemplate(text: string, vars: Record<string, string | number>, name = 'template'): string {
  const value = (key: string): string => {
    if (!(key in vars)) throw new Error(`${name}: templatefile() has no variable ${key}`);
    return String(vars[key]);
  };
  let out = text.replace(/%\{ if ([a-z][a-z0-9_]*) != "" \}\n?([\s\S]*?)%\{ endif \}\n?/g, (_m, key: string, body: string) => (value(key) !== '' ? body : ''));
  const leftover = /%\{/.exec(out);
  if (leftover) throw new Error(`${name}: unsupported template directive at ${out.slice(leftover.index, leftover.index + 40)}`);
  out = out.replace(/\$\{([^}]*)\}/g, (_m, expr: string) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(expr)) throw new Error(`${name}: unsupported template expression \${${expr}}`);
    return value(expr);
  });
  return out;
}

/** Evaluates one of compute.tf's local expressions (as hcl2json writes them) with the given variables. */
function evaluate(expr: unknown, vars: Record<string, string | number>, locals: Record<string, unknown>, cache: Map<string, string>): string | Record<string, string> {
  if (typeof expr === 'number' || typeof expr === 'boolean') return String(expr);
  if (typeof expr !== 'string') throw new Error(`unsupported local expression ${JSON.stringify(expr)}`);
  const whole = /^\$\{(.*)\}$/s.exec(expr);
  if (!whole) {
    if (expr.includes('${')) throw new Error(`unsupported interpolation ${expr}`);
    return expr;
  }
  const body = whole[1]!.trim();
  let m = /^var\.([a-z][a-z0-9_]*)$/.exec(body);
  if (m) {
    if (!(m[1]! in vars)) throw new Error(`no value for var.${m[1]}`);
    return String(vars[m[1]!]);
  }
  m = /^local\.([a-z][a-z0-9_]*)$/.exec(body);
  if (m) return local(m[1]!, vars, locals, cache);
  m = /^base64encode\(local\.([a-z][a-z0-9_]*)\)$/.exec(body);
  if (m) return Buffer.from(local(m[1]!, vars, locals, cache)).toString('base64');
  m = /^templatefile\("\$\{path\.module\}\/([^"]+)", \{([\s\S]*)\}\)$/.exec(body);
  if (m) {
    const templateVars: Record<string, string> = {};
    for (const line of m[2]!.split('\n').map((l) => l.trim()).filter(Boolean)) {
      const kv = /^([a-z][a-z0-9_]*)\s*=\s*(.+)$/.exec(line);
      if (!kv) throw new Error(`unsupported templatefile argument ${line}`);
      const raw = kv[2]!;
      const asExpr = raw.startsWith('"') ? raw.slice(1, -1) : `\${${raw}}`;
      templateVars[kv[1]!] = String(evaluate(asExpr, vars, locals, cache));
    }
    return renderTemplate(readFileSync(join(EDGE_DIR, m[1]!), 'utf8'), templateVars, m[1]);
  }
  throw new Error(`unsupported local expression ${body}`);
}

function local(name: string, vars: Record<string, string | number>, locals: Record<string, unknown>, cache: Map<string, string>): string {
  const hit = cache.get(name);
  if (hit !== undefined) return hit;
  if (!(name in locals)) throw new Error(`no local ${name}`);
  const value = evaluate(locals[name], vars, locals, cache);
  if (typeof value !== 'string') throw new Error(`local ${name} is not a string`);
  cache.set(name, value);
  return value;
}

/** Terraform variables with their defaults, overridden by `values`; a variable without a default must be given. */
export function variables(merged: Hcl, values: Record<string, string | number>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [name, decls] of Object.entries(merged['variable'] as Record<string, Hcl[]>)) {
    const d = decls[0]!;
    if (name in values) out[name] = values[name]!;
    else if ('default' in d) out[name] = d['default'];
    else throw new Error(`variable ${name} has no default: give it a value`);
  }
  return out;
}

/** The locals compute.tf defines (caddyfile, wireguard_conf, user_data), rendered. */
export async function renderLocals(values: Record<string, string | number>): Promise<Record<string, string>> {
  const { merged } = await parseModule();
  const vars = variables(merged, values);
  const locals = Object.assign({}, ...(merged['locals'] as Hcl[])) as Record<string, unknown>;
  const cache = new Map<string, string>();
  return Object.fromEntries(Object.keys(locals).map((name) => [name, local(name, vars, locals, cache)]));
}
