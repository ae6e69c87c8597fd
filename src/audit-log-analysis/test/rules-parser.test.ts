import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConditionSyntaxError, parseCondition } from '../src/rules/condition-parser.ts';
import { parseTimespan } from '../src/rules/duration.ts';
import { parseRules } from '../src/rules/rule-parser.ts';
import type { DetectionRule } from '../src/rules/rule-set.ts';
import { RulesError } from '../src/rules/rules-error.ts';
import { DEFAULT_RULES_FILE, loadRulesFile } from '../src/rules/rules-file.ts';
import { contextOf, makeEvent } from './fixtures.ts';

function problemsOf(text: string) {
  try {
    parseRules(text, 'rules.yaml');
  } catch (error) {
    assert.ok(error instanceof RulesError);
    assert.equal(error.code, 'AF_RULES_INVALID');
    return error.problems;
  }
  assert.fail('expected a RulesError');
}

function detection(body: string): DetectionRule {
  const rules = parseRules(`title: t\nid: r1\nlevel: high\ndetection:\n${body}`, 'x.yaml');
  return rules.detections[0]!;
}

describe('condition parser', () => {
  const names = ['sel_a', 'sel_b', 'filter', '_hidden'];

  test('precedence: not > and > or, parentheses override', () => {
    assert.deepEqual(parseCondition('sel_a or sel_b and not filter', names), {
      kind: 'or',
      operands: [
        { kind: 'ref', name: 'sel_a' },
        { kind: 'and', operands: [{ kind: 'ref', name: 'sel_b' }, { kind: 'not', operand: { kind: 'ref', name: 'filter' } }] },
      ],
    });
    assert.deepEqual(parseCondition('(sel_a or sel_b) and filter', names), {
      kind: 'and',
      operands: [{ kind: 'or', operands: [{ kind: 'ref', name: 'sel_a' }, { kind: 'ref', name: 'sel_b' }] }, { kind: 'ref', name: 'filter' }],
    });
  });

  test('quantifiers over patterns and them', () => {
    assert.deepEqual(parseCondition('1 of sel_*', names), { kind: 'or', operands: [{ kind: 'ref', name: 'sel_a' }, { kind: 'ref', name: 'sel_b' }] });
    assert.deepEqual(parseCondition('all of sel_*', names), { kind: 'and', operands: [{ kind: 'ref', name: 'sel_a' }, { kind: 'ref', name: 'sel_b' }] });
    const them = parseCondition('all of them', names);
    assert.equal(them.kind, 'and');
    assert.equal((them as { operands: unknown[] }).operands.length, 3, '_-prefixed selections are not part of them');
    assert.equal(parseCondition('1 of them', names).kind, 'or');
  });

  test('errors carry the offset of the offending token', () => {
    const cases: [string, number][] = [
      ['sel_a and', 9],
      ['sel_a and missing', 10],
      ['(sel_a or sel_b', 15],
      ['sel_a sel_b', 6],
      ['1 of nothing_*', 5],
      ['sel_*', 0],
      ['sel_a & sel_b', 6],
    ];
    for (const [text, offset] of cases) {
      assert.throws(
        () => parseCondition(text, names),
        (error: unknown) => error instanceof ConditionSyntaxError && error.offset === offset,
        text,
      );
    }
  });
});

describe('modifiers and matching', () => {
  const ev = (details: Record<string, unknown>, extra: Record<string, unknown> = {}) => contextOf(makeEvent({ details, ...extra } as never));

  test('equality is exact and case-sensitive', () => {
    const rule = detection('  s: { details.resource: /etc/passwd }\n  condition: s');
    assert.equal(rule.matches(ev({ resource: '/etc/passwd' })), true);
    assert.equal(rule.matches(ev({ resource: '/etc/Passwd' })), false);
    assert.equal(rule.matches(ev({ resource: '/etc/passwd.bak' })), false);
  });

  test('contains, startswith, endswith, re', () => {
    const contains = detection("  s: { details.command|contains: 'rm -rf' }\n  condition: s");
    assert.equal(contains.matches(ev({ command: '/bin/rm -rf /' })), true);
    assert.equal(contains.matches(ev({ command: '/bin/ls' })), false);
    const starts = detection('  s: { details.resource|startswith: /etc/sudoers.d/ }\n  condition: s');
    assert.equal(starts.matches(ev({ resource: '/etc/sudoers.d/x' })), true);
    assert.equal(starts.matches(ev({ resource: '/etc/sudoers' })), false);
    const ends = detection('  s: { details.resource|endswith: .service }\n  condition: s');
    assert.equal(ends.matches(ev({ resource: 'auditd.service' })), true);
    const re = detection("  s: { user_id|re: '^attacker_[a-z]+$' }\n  condition: s");
    assert.equal(re.matches(ev({}, { user_id: 'attacker_bob' })), true);
    assert.equal(re.matches(ev({}, { user_id: 'xattacker_bob' })), false);
  });

  test('numeric comparisons, also on numeric strings', () => {
    const rule = detection('  s: { details.size_change_bytes|gt: 100, details.size_change_bytes|lte: 500 }\n  condition: s');
    assert.equal(rule.matches(ev({ size_change_bytes: 101 })), true);
    assert.equal(rule.matches(ev({ size_change_bytes: '500' })), true);
    assert.equal(rule.matches(ev({ size_change_bytes: 100 })), false);
    assert.equal(rule.matches(ev({ size_change_bytes: 501 })), false);
    assert.equal(rule.matches(ev({ size_change_bytes: 'many' })), false);
    const lt = detection('  s: { details.n|lt: 0, details.m|gte: 2 }\n  condition: s');
    assert.equal(lt.matches(ev({ n: -1, m: 2 })), true);
  });

  test('cidr for IPv4 and IPv6', () => {
    const rule = detection('  s: { details.ip_address|cidr: [192.168.1.0/24, "fd00::/8"] }\n  condition: s');
    assert.equal(rule.matches(ev({ ip_address: '192.168.1.150' })), true);
    assert.equal(rule.matches(ev({ ip_address: '192.168.2.1' })), false);
    assert.equal(rule.matches(ev({ ip_address: 'fd12::1' })), true);
    assert.equal(rule.matches(ev({ ip_address: 'not-an-ip' })), false);
  });

  test('exists', () => {
    const rule = detection('  s: { details.tty|exists: true }\n  f: { details.cwd|exists: false }\n  condition: s and f');
    assert.equal(rule.matches(ev({ tty: '/dev/pts/0' })), true);
    assert.equal(rule.matches(ev({ tty: '/dev/pts/0', cwd: '/root' })), false);
    assert.equal(rule.matches(ev({})), false);
  });

  test('value lists are OR; |all makes them AND; maps are AND; lists of maps are OR', () => {
    const anyOf = detection('  s: { details.command|contains: [useradd, passwd] }\n  condition: s');
    assert.equal(anyOf.matches(ev({ command: 'useradd bob' })), true);
    const allOf = detection('  s: { details.command|contains|all: [useradd, sudo] }\n  condition: s');
    assert.equal(allOf.matches(ev({ command: 'useradd bob' })), false);
    assert.equal(allOf.matches(ev({ command: 'sudo useradd bob' })), true);
    const listOfMaps = detection('  s:\n    - { user_id: alice, server_hostname: a }\n    - { user_id: bob }\n  condition: s');
    assert.equal(listOfMaps.matches(ev({}, { user_id: 'alice', server_hostname: 'a' })), true);
    assert.equal(listOfMaps.matches(ev({}, { user_id: 'alice', server_hostname: 'b' })), false);
    assert.equal(listOfMaps.matches(ev({}, { user_id: 'bob', server_hostname: 'z' })), true);
  });

  test('derived event_time fields use RULES_TIMEZONE', () => {
    const rule = detection('  s: { event_time.hour: 14, event_time.weekday: monday }\n  condition: s');
    const event = makeEvent({ timestamp: '2026-03-02T10:30:00Z' });
    assert.equal(rule.matches(contextOf(event, 'UTC')), false);
    assert.equal(rule.matches(contextOf(event, 'Europe/Berlin')), false, 'UTC+1 in March: 11h');
    assert.equal(rule.matches(contextOf(event, 'Asia/Dubai')), true, 'UTC+4: 14:30 on a Monday');
  });
});

describe('rules file validation', () => {
  test('parseTimespan', () => {
    assert.equal(parseTimespan('60s'), 60_000);
    assert.equal(parseTimespan('10m'), 600_000);
    assert.equal(parseTimespan('1h'), 3_600_000);
    assert.equal(parseTimespan('2d'), 172_800_000);
    assert.equal(parseTimespan('10'), undefined);
    assert.equal(parseTimespan('0s'), undefined);
    assert.equal(parseTimespan('5w'), undefined);
  });

  test('YAML syntax errors are located', () => {
    const problems = problemsOf('title: a\nid: x\ndetection:\n  s: { a: [1, 2 }\n  condition: s\n');
    assert.ok(problems.length >= 1);
    assert.equal(problems[0]!.line, 4);
  });

  test('schema problems point at the key or value with line and column', () => {
    const text = [
      'title: ok', // 1
      'id: r1', // 2
      'level: severe', // 3
      'colour: blue', // 4
      'detection:', // 5
      '  s: { user_id|startwith: x }', // 6
      '  condition: s and nope', // 7
      '---', // 8
      'title: corr', // 9
      'id: r2', // 10
      'correlation:', // 11
      '  type: event_count', // 12
      '  rules: [missing_rule]', // 13
      '  timespan: 10 minutes', // 14
      '  condition: { gte: 3, often: 2 }', // 15
    ].join('\n');
    const problems = problemsOf(text);
    const at = (line: number) => problems.filter((p) => p.line === line);
    assert.match(at(3)[0]!.message, /level must be one of/);
    assert.equal(at(3)[0]!.column, 8);
    assert.match(at(4)[0]!.message, /unknown key 'colour'/);
    assert.equal(at(4)[0]!.column, 1);
    assert.match(at(6)[0]!.message, /unknown modifier 'startwith'/);
    assert.equal(at(6)[0]!.column, 8);
    assert.match(at(7)[0]!.message, /unknown selection 'nope'/);
    assert.equal(at(7)[0]!.column, 20, 'points inside the condition string');
    assert.match(at(14)[0]!.message, /timespan/);
    assert.match(at(15)[0]!.message, /unknown condition key 'often'/);
    // The unknown reference is only reported once the document itself is valid.
    assert.equal(at(13).length, 0);
    assert.ok(problems.every((p) => p.path.startsWith('[')));
  });

  test('unknown references, duplicate ids and cycles are reported', () => {
    const base = 'title: b\nid: base\nname: base\ndetection:\n  s: { event_type: x }\n  condition: s\n';
    const unknown = problemsOf(`${base}---\ntitle: c\nid: c1\ncorrelation:\n  type: event_count\n  rules: [base, ghost]\n  timespan: 1m\n  condition: { gte: 2 }\n`);
    assert.equal(unknown.length, 1);
    assert.match(unknown[0]!.message, /unknown rule 'ghost'/);
    assert.equal(unknown[0]!.line, 12);
    const duplicate = problemsOf(`${base}---\n${base}`);
    assert.ok(duplicate.some((p) => /duplicate rule id 'base'/.test(p.message) && p.line === 9));
    const cycle = problemsOf(
      `${base}---\ntitle: c\nid: c1\ncorrelation: { type: temporal, rules: [base, c2], timespan: 1m }\n---\ntitle: d\nid: c2\ncorrelation: { type: temporal, rules: [base, c1], timespan: 1m }\n`,
    );
    assert.ok(cycle.some((p) => /correlation cycle/.test(p.message)));
  });

  test('type-specific correlation checks', () => {
    const base = 'title: b\nid: base\ndetection:\n  s: { event_type: x }\n  condition: s\n---\n';
    assert.ok(problemsOf(`${base}title: c\nid: c\ncorrelation: { type: value_count, rules: [base], timespan: 1m, condition: { gte: 2 } }\n`).some((p) => /condition.field/.test(p.message)));
    assert.ok(problemsOf(`${base}title: c\nid: c\ncorrelation: { type: temporal, rules: [base], timespan: 1m }\n`).some((p) => /at least two rules/.test(p.message)));
    assert.ok(problemsOf(`${base}title: c\nid: c\ncorrelation: { type: temporal, rules: [base, base], timespan: 1m, condition: { gte: 1 } }\n`).some((p) => /takes no condition/.test(p.message)));
    assert.ok(problemsOf(`${base}title: c\nid: c\ncorrelation: { type: sequence, rules: [base], timespan: 1m }\n`).some((p) => /correlation type must be one of/.test(p.message)));
  });

  test('an empty file and an unreadable file are errors', async () => {
    assert.match(problemsOf('')[0]!.message, /no rules/);
    await assert.rejects(loadRulesFile('/nonexistent/rules.yaml'), (error: unknown) => error instanceof RulesError && /cannot read/.test(error.problems[0]!.message));
  });

  test('the packaged default rules load, and referenced base rules stay silent (generate)', async () => {
    const rules = await loadRulesFile(DEFAULT_RULES_FILE);
    const ids = rules.rules.map((r) => r.id);
    for (const id of ['ANLY-SEC-001', 'ANLY-SEC-002', 'ANLY-SEC-003', 'ANLY-SEC-004', 'ANLY-SEC-005', 'ANLY-SEC-006', 'ANLY-SEC-007']) {
      assert.ok(ids.includes(id), id);
      assert.equal(rules.byId.get(id)!.alerts, true, id);
    }
    assert.equal(rules.byId.get('ANLY-BASE-001')!.alerts, false);
    assert.equal(rules.byId.get('ANLY-BASE-002')!.alerts, false);
    assert.deepEqual(
      rules.correlations.map((r) => r.id),
      ['ANLY-SEC-001', 'ANLY-SEC-003', 'ANLY-SEC-004', 'ANLY-SRC-003', 'ANLY-SRC-004', 'ANLY-SRC-016', 'ANLY-FS-001', 'ANLY-FS-002', 'ANLY-FS-003', 'ANLY-FS-004'],
      'a chained correlation comes after the one it references',
    );
    const generate = parseRules(
      'title: b\nid: base\ngenerate: true\ndetection:\n  s: { event_type: x }\n  condition: s\n---\ntitle: c\nid: c\ncorrelation: { type: event_count, rules: [base], timespan: 1m, condition: { gte: 2 } }\n',
      'g.yaml',
    );
    assert.equal(generate.byId.get('base')!.alerts, true);
  });
});
