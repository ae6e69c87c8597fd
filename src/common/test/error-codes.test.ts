// The error-code registry, docs/errors.md and the sources name the same codes with the same statuses.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as platform from '../src/platform.ts';
import { AlertNotFoundError, AuditFlowError, createError, ERROR_CODES, formatErrorMessage, isPermanent, isTransient, UnsupportedMediaTypeError } from '../src/index.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface DocRow {
  status: string;
  exit: string;
}

function documentedCodes(): Map<string, DocRow> {
  const rows = new Map<string, DocRow>();
  for (const line of readFileSync(join(ROOT, 'docs/errors.md'), 'utf8').split('\n')) {
    const match = /^\| `(AF_[A-Z0-9_]+)` \| ([^|]+) \| ([^|]+) \|/.exec(line);
    if (match) rows.set(match[1]!, { status: match[2]!.trim(), exit: match[3]!.trim() });
  }
  return rows;
}

/** Every TypeScript source of every package's src/, as [path relative to the repository, text]. */
function* packageSources(): Generator<[string, string]> {
  for (const dir of readdirSync(join(ROOT, 'src'))) {
    let files: string[];
    try {
      files = sourceFiles(join(ROOT, 'src', dir, 'src'));
    } catch {
      continue;
    }
    for (const file of files) yield [file.slice(ROOT.length), readFileSync(file, 'utf8')];
  }
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

test('every registered code is documented in docs/errors.md with its status and exit code, and every documented code exists', () => {
  const documented = documentedCodes();
  const registered = Object.keys(ERROR_CODES);
  assert.deepEqual(registered.filter((code) => !documented.has(code)), [], 'registered but not in docs/errors.md');
  assert.deepEqual([...documented.keys()].filter((code) => !(code in ERROR_CODES)), [], 'in docs/errors.md but not registered');
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    const row = documented.get(code)!;
    if (/^\d+$/.test(row.status)) assert.equal(Number(row.status), spec.status, `${code}: HTTP status`);
    assert.equal(row.exit, 'exit' in spec ? String(spec.exit) : '-', `${code}: exit code`);
  }
});

test('every AF_ code written in the services is registered', () => {
  const unregistered = new Set<string>();
  for (const [file, text] of packageSources()) {
    for (const match of text.matchAll(/\b(AF_[A-Z0-9_]+)/g)) {
      if (!(match[1]! in ERROR_CODES)) unregistered.add(`${match[1]} (${file})`);
    }
  }
  assert.deepEqual([...unregistered], [], 'add these to src/common/src/error-codes.ts and docs/errors.md');
});

test('createError classes take status and message from the registry', () => {
  const error = new AlertNotFoundError('42');
  assert.ok(error instanceof AuditFlowError);
  assert.equal(error.code, 'AF_ALERT_NOT_FOUND');
  assert.equal(error.statusCode, 404);
  assert.equal(error.message, 'Alert not found: 42');
  assert.equal(new UnsupportedMediaTypeError().statusCode, 415);
  const Batch = createError<[number, string, number]>('AF_BATCH_TOO_LARGE');
  assert.equal(new Batch(10, 'events', 11).message, 'at most 10 events per request, got 11');
  assert.equal(formatErrorMessage('AF_PORT_IN_USE', [8080, 'DASHBOARD_PORT']), 'port 8080 is in use; set DASHBOARD_PORT to a free port');
  // A plain AuditFlowError with a registered code gets the registered status.
  assert.equal(new AuditFlowError('AF_TOO_MANY_STREAMS', 'x').statusCode, 503);
});

/** The registry's own files: the only sources that may spell a code as a string. */
const REGISTRY = new Set(['src/common/src/error-codes.ts', 'src/common/src/errors.ts']);

test("no source outside the registry spells a code: call sites throw the registry's classes", () => {
  const offenders: string[] = [];
  for (const [file, text] of packageSources()) {
    if (REGISTRY.has(file)) continue;
    text.split('\n').forEach((line, index) => {
      if (/['"`]AF_/.test(line)) offenders.push(`${file}:${index + 1}: ${line.trim()}`);
    });
  }
  assert.deepEqual(offenders, [], "throw new AfXxxError(...) or read AfXxxError.code instead of writing an 'AF_ literal");
});

test('every registered code has its class, named after it, with the registry status, message and base', () => {
  const classes = platform as unknown as Record<string, { code?: string; new (...args: unknown[]): AuditFlowError }>;
  for (const [code, spec] of Object.entries(ERROR_CODES)) {
    const name = `Af${code
      .slice(3)
      .toLowerCase()
      .replace(/(^|_)([a-z0-9])/g, (_m, _s, c: string) => c.toUpperCase())}Error`;
    const ErrorClass = classes[name];
    assert.ok(ErrorClass, `${code}: no class ${name} in @auditflow/common/platform`);
    assert.equal(ErrorClass.code, code);
    const args = Array.from({ length: spec.message.split('%s').length - 1 }, (_, i) => `a${i}`);
    const error = new ErrorClass(...args);
    assert.equal(error.name, name);
    assert.equal(error.code, code);
    assert.equal(error.statusCode, spec.status);
    assert.equal(error.message, formatErrorMessage(code as keyof typeof ERROR_CODES, args));
  }
  assert.ok(isTransient(new platform.AfPublishFailedError('x')));
  assert.ok(isPermanent(new platform.AfAlertSchemaError('x')));
  // A last options argument carries the cause, the per-field errors or another status.
  const cause = new Error('socket closed');
  const withOptions = new platform.AfBackendRejectedError('no', { statusCode: 409, cause, details: [{ path: '/x', message: 'bad' }] });
  assert.deepEqual([withOptions.statusCode, withOptions.cause, withOptions.details], [409, cause, [{ path: '/x', message: 'bad' }]]);
  assert.equal(withOptions.message, 'no');
});
