import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DetectionIndex, requirementOf } from '../src/rules/rule-index.ts';
import { parseRules } from '../src/rules/rule-parser.ts';
import { DEFAULT_RULES_FILE, loadRulesFile } from '../src/rules/rules-file.ts';
import { contextOf, makeEvent } from './fixtures.ts';

const rule = (id: string, detection: string) => `title: ${id}\nid: ${id}\ndetection:\n${detection}\nlevel: low\n`;

/** Shapes the index must read correctly: or, not, lists, modifiers, exists, quantifiers, non-string literals. */
const TRICKY = parseRules(
  [
    rule('EQ', '  sel: { event_type: user_login, action_result: FAILURE }\n  condition: sel'),
    rule('OR', '  a: { event_type: user_login }\n  b: { event_type: sudo_command }\n  condition: a or b'),
    rule('NOT', '  a: { event_type: user_login }\n  condition: not a'),
    rule('LIST', '  sel:\n    - { event_type: file_access, details.file_path: /etc/shadow }\n    - { event_type: [user_login, sudo_command] }\n  condition: sel'),
    rule('EXISTS', "  sel: { 'details.ip_address|exists': true }\n  condition: sel"),
    rule('CONTAINS', "  sel: { 'details.command|contains': passwd }\n  condition: sel"),
    rule('NUMBER', '  sel: { details.attempts: 3 }\n  condition: sel'),
    rule('QUANT', '  sel1: { user_id: root }\n  sel2: { user_id: admin }\n  condition: 1 of sel*'),
    rule('ANDNOT', '  sel: { event_type: sudo_command }\n  noise: { user_id: backup }\n  condition: sel and not noise'),
    rule('NULLREASON', '  sel: { details.reason: null }\n  condition: sel'),
  ].join('---\n'),
  'tricky.yaml',
);

test('what a detection requires of an event: literals and presence only where every way to match needs them', () => {
  const byId = (id: string) => requirementOf(TRICKY.detections.find((r) => r.id === id)!.detection);
  assert.deepEqual([...byId('EQ').literals.get('event_type')!], ['user_login']);
  assert.deepEqual([...byId('OR').literals.get('event_type')!].sort(), ['sudo_command', 'user_login']);
  assert.equal(byId('NOT').literals.size + byId('NOT').present.size, 0);
  assert.deepEqual([...byId('LIST').literals.get('event_type')!].sort(), ['file_access', 'sudo_command', 'user_login']);
  assert.equal(byId('LIST').literals.has('details.file_path'), false);
  assert.deepEqual([...byId('EXISTS').present], ['details.ip_address']);
  assert.deepEqual([...byId('CONTAINS').present], ['details.command']);
  assert.equal(byId('NUMBER').literals.size, 0, 'a number also matches its string form: not an exact-string key');
  assert.deepEqual([...byId('ANDNOT').literals.keys()], ['event_type']);
  assert.equal(byId('NULLREASON').present.size, 0);
});

const eventArb = fc.record({
  event_type: fc.constantFrom('user_login', 'sudo_command', 'file_access', 'config_change', 'other'),
  user_id: fc.constantFrom('root', 'admin', 'backup', 'alice'),
  action_result: fc.constantFrom('SUCCESS', 'FAILURE'),
  details: fc.record(
    {
      ip_address: fc.constantFrom('10.0.0.1', '192.168.1.150'),
      command: fc.constantFrom('passwd alice', 'ls'),
      file_path: fc.constantFrom('/etc/shadow', '/etc/passwd'),
      attempts: fc.constantFrom(3, '3', 4),
      reason: fc.constantFrom('x', null),
    },
    { requiredKeys: [] },
  ),
});

test('every rule an event matches is among its candidates, for the default rules and tricky shapes', async () => {
  const defaults = await loadRulesFile(DEFAULT_RULES_FILE);
  for (const rules of [defaults, TRICKY]) {
    const index = new DetectionIndex(rules.detections);
    fc.assert(
      fc.property(eventArb, (fields) => {
        const context = contextOf(makeEvent(fields as never));
        const candidates = index.candidates(context);
        const matching = rules.detections.filter((r) => r.matches(context));
        assert.deepEqual(candidates.filter((r) => r.matches(context)), matching, 'same matches, same (file) order');
      }),
      { numRuns: 500 },
    );
  }
});

test('an event is tested only against the rules it can match', async () => {
  const defaults = await loadRulesFile(DEFAULT_RULES_FILE);
  const index = new DetectionIndex(defaults.detections);
  const login = index.candidates(contextOf(makeEvent({ event_type: 'user_login', action_result: 'FAILURE' })));
  assert.ok(login.length < defaults.detections.length / 2, `${login.length} of ${defaults.detections.length} candidates: ${login.map((r) => r.id)}`);
  assert.ok(login.some((r) => r.id === 'ANLY-BASE-001'));
  assert.ok(index.stats().literalFields.length <= 3, JSON.stringify(index.stats()));
});
