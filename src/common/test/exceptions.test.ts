import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { contractValidator, type ExceptionEntry, ExceptionsFileSchema, exceptionMatches, isExceptionActive } from '../src/contracts/index.ts';
import { ExceptionsFileError, loadExceptionsFileSync, parseExceptionFiles, renderExceptionFragment, renderExceptionsFile } from '../src/exceptions-file.ts';
import { parse } from 'yaml';

const RULES = new Set(['ANLY-SEC-001', 'ANLY-SEC-003']);
const known = (id: string) => RULES.has(id);

function problemsOf(text: string): string[] {
  try {
    parseExceptionFiles([{ text, fileName: 'x.yaml' }], known, 'x.yaml');
  } catch (error) {
    assert.ok(error instanceof ExceptionsFileError);
    assert.equal(error.code, 'AF_EXCEPTIONS_INVALID');
    return error.located;
  }
  return [];
}

describe('the exception match', () => {
  const exception = { rule_id: 'ANLY-SEC-001', fields: { host: 'pi-1', 'details.ip_address': '10.0.0.5' } };
  test('every named label must have exactly the value, and the rule must be the exception\'s', () => {
    assert.equal(exceptionMatches(exception, { rule_id: 'ANLY-SEC-001', host: 'pi-1', 'details.ip_address': '10.0.0.5', user: 'x' }), true);
    assert.equal(exceptionMatches(exception, { rule_id: 'ANLY-SEC-003', host: 'pi-1', 'details.ip_address': '10.0.0.5' }), false);
    assert.equal(exceptionMatches(exception, { rule_id: 'ANLY-SEC-001', host: 'pi-1' }), false, 'a missing label matches nothing');
    assert.equal(exceptionMatches(exception, { rule_id: 'ANLY-SEC-001', host: 'PI-1', 'details.ip_address': '10.0.0.5' }), false, 'exact, case-sensitive');
  });
  test('an exception is active until its expiry, exclusive', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    assert.equal(isExceptionActive({}, now), true);
    assert.equal(isExceptionActive({ expires_at: null }, now), true);
    assert.equal(isExceptionActive({ expires_at: '2026-06-01T00:00:00Z' }, now), false);
    assert.equal(isExceptionActive({ expires_at: '2026-06-01T00:00:01Z' }, now), true);
  });
});

describe('the exceptions file', () => {
  const entries: ExceptionEntry[] = [
    { id: 'b-one', rule_id: 'ANLY-SEC-003', fields: { 'details.ip_address': '10.0.0.5' }, author: 'ann', reason: 'the scanner', created_at: '2026-01-02T00:00:00.000Z' },
    {
      id: 'a-two',
      rule_id: 'ANLY-SEC-001',
      fields: { user: 'backup', host: 'pi-1', port: '22', flag: 'true' },
      author: 'bob',
      reason: 'nightly job: "rsync" #1',
      created_at: '2026-01-01T00:00:00.000Z',
      expires_at: '2027-01-01T00:00:00.000Z',
    },
  ];

  test('what is written reads back to the same entries, in a deterministic order, and passes the schema', () => {
    const text = renderExceptionsFile(entries);
    assert.equal(renderExceptionsFile([...entries].reverse()), text, 'order of the input does not matter');
    const parsed = parseExceptionFiles([{ text, fileName: 'e.yaml' }], known, 'e.yaml');
    assert.deepEqual(parsed.map((e) => e.id), ['a-two', 'b-one'], 'by rule id');
    assert.deepEqual(parsed[0], entries[1]);
    assert.equal(parsed[0]!.fields['port'], '22', 'numbers and booleans stay text');
    assert.ok(contractValidator(ExceptionsFileSchema)(parse(text)));
    assert.deepEqual(parseExceptionFiles([{ text: renderExceptionsFile([]), fileName: 'e.yaml' }], known, 'e.yaml'), []);
    const fragment = renderExceptionFragment(entries[0]!);
    assert.match(fragment, /^ {2}- id: b-one\n/);
    assert.deepEqual(parseExceptionFiles([{ text: `exceptions:\n${fragment}`, fileName: 'f.yaml' }], known, 'f.yaml'), [entries[0]]);
  });

  test('every problem is named at file:line:col', () => {
    const text = [
      'exceptions:', //                                   1
      '  - id: ok-1', //                                   2
      '    rule_id: NOPE', //                              3
      '    fields: { host: pi-1, "bad name": x }', //      4
      '    author: me', //                                 5
      '    reason: because', //                            6
      '    expires_at: tomorrow', //                       7
      '    colour: red', //                                8
      '  - id: ok-1', //                                   9
      '    rule_id: ANLY-SEC-001', //                     10
      '    fields: { port: 22, rule_id: ANLY-SEC-001 }', //11
      '    author: me', //                                12
      '  - id: ok-2', //                                  13
      '    rule_id: ANLY-SEC-001', //                     14
      '    fields: {}', //                                15
      '    author: me', //                                16
      '    reason: r', //                                 17
      '  - id: ok-3', //                                  18
      '    rule_id: ANLY-SEC-001', //                     19
      '    fields: { host: a }', //                       20
      '    author: me', //                                21
      '    reason: r', //                                 22
      '  - id: ok-3', //                                  23
      '    rule_id: ANLY-SEC-001', //                     24
      '    fields: { host: b }', //                       25
      '    author: me', //                                26
      '    reason: r', //                                 27
    ].join('\n');
    const problems = problemsOf(text);
    const expect = [
      /^x\.yaml:4:27: 'bad name' is not a label name/,
      /^x\.yaml:7:17: expires_at must be an ISO-8601 date-time/,
      /^x\.yaml:8:5: unknown key 'colour'/,
      /^x\.yaml:9:5: missing 'reason'/,
      /^x\.yaml:11:21: the value of port must be text/,
      /^x\.yaml:11:13: fields cannot name rule_id/,
      /^x\.yaml:15:13: fields must name 1 to 16 labels/,
      /^x\.yaml:23:9: duplicate id 'ok-3'/,
    ];
    for (const pattern of expect) assert.ok(problems.some((p) => pattern.test(p)), `${pattern} in\n${problems.join('\n')}`);
    // The unknown rule of the first entry is only checked once the entry itself is valid.
    assert.deepEqual(problemsOf('exceptions:\n  - id: a\n    rule_id: NOPE\n    fields: {host: x}\n    author: me\n    reason: r\n'), [
      "x.yaml:3:14: unknown rule id 'NOPE': no rule of the rules file has it",
    ]);
    assert.match(problemsOf('exceptions: [\n')[0]!, /^x\.yaml:\d+:\d+: /, 'YAML syntax errors are located too');
    assert.deepEqual(problemsOf('rules: []\n'), ["x.yaml:1:1: unknown key 'rules' (only 'exceptions')"]);
    assert.deepEqual(problemsOf(''), [], 'an empty file holds no exceptions');
  });

  test('a directory is one set: every *.yaml in name order, ids unique across files; an unreadable path is a problem too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'exceptions-'));
    try {
      writeFileSync(join(dir, 'b.yaml'), renderExceptionsFile([entries[0]!]));
      writeFileSync(join(dir, 'a.yml'), renderExceptionsFile([entries[1]!]));
      writeFileSync(join(dir, 'notes.txt'), 'ignored');
      const loaded = loadExceptionsFileSync(dir, known);
      assert.deepEqual(loaded.entries.map((e) => e.id), ['a-two', 'b-one']);
      writeFileSync(join(dir, 'c.yaml'), renderExceptionsFile([entries[0]!]));
      assert.throws(() => loadExceptionsFileSync(dir, known), (error: ExceptionsFileError) => /c\.yaml:\d+:\d+: duplicate id 'b-one'/.test(error.located.join('\n')));
      assert.throws(() => loadExceptionsFileSync(join(dir, 'missing.yaml'), known), (error: ExceptionsFileError) => /missing\.yaml:1:1: cannot read the exceptions/.test(error.located[0]!));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
