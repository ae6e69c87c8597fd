import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { assertAlert, type AuditEvent } from '@auditflow/common';
import { type AlertOutcome, AnalysisEngine } from '../src/engine/analysis-engine.ts';
import { EvidenceBook } from '../src/engine/evidence-book.ts';
import type { RuleSet } from '../src/rules/rule-set.ts';
import { DEFAULT_RULES_FILE, loadRulesFile } from '../src/rules/rules-file.ts';
import { MemoryWindowStore } from '../src/store/memory-window-store.ts';
import { contextOf, failedLogin, T0 } from './fixtures.ts';

const S = 1000;
let rules: RuleSet;
before(async () => {
  rules = await loadRulesFile(DEFAULT_RULES_FILE);
});

function wired(book: EvidenceBook) {
  return new AnalysisEngine({
    rules,
    store: new MemoryWindowStore(),
    settings: { latenessMs: 300 * S, defaultCooldownMs: 300 * S, environment: 'test' },
    hooks: { eventMatched: (event) => book.remember(event), alertFolded: (id, event) => book.folded(id, event) },
  });
}

const burst = (count: number): AuditEvent[] =>
  Array.from({ length: count }, (_, i) => ({ ...failedLogin('carol', 'h9', T0 + i * S), source: { kind: 'syslog' as const, peer: '10.0.0.9:514', program: 'sshd' } }));

describe('alert evidence', () => {
  test('an alert carries the earliest and latest events that made it, with the total, in the alert contract', async () => {
    const book = new EvidenceBook({ perSide: 3 });
    const engine = wired(book);
    const events = burst(9);
    const outcomes: AlertOutcome[] = [];
    for (const event of events) outcomes.push(...(await engine.process(contextOf(event), false)));
    const last = outcomes.filter((o) => o.rule.id === 'ANLY-SEC-001').at(-1)!;
    const alert = assertAlert(book.attach(last.alert));
    assert.equal(alert.evidence!.total, 9);
    assert.deepEqual(
      alert.evidence!.first.map((e) => e.event_id),
      events.slice(0, 3).map((e) => e.event_id),
      'the first events are the ones that opened the window, before the alert existed',
    );
    assert.deepEqual(
      alert.evidence!.last.map((e) => e.event_id),
      events.slice(6).map((e) => e.event_id),
    );
    assert.equal(alert.evidence!.unresolved, 0);
    const first = alert.evidence!.first[0]!;
    assert.equal(first.user_id, 'carol');
    assert.equal(first.ip_address, '192.168.1.150');
    assert.equal(first.origin, 'syslog');
    assert.deepEqual(alert.origin, { kind: 'syslog', sender: '10.0.0.9:514', program: 'sshd' });
  });

  test('the batch path gives the same evidence as the per-event path', async () => {
    const book = new EvidenceBook({ perSide: 3 });
    const engine = wired(book);
    const events = burst(9);
    const perEvent = await engine.processBatch(events.map((event) => ({ context: contextOf(event), redelivered: false })));
    const last = perEvent.flat().filter((o) => o.rule.id === 'ANLY-SEC-001').at(-1)!;
    const evidence = book.evidenceOf(last.alert);
    assert.equal(evidence.total, 9);
    assert.deepEqual(
      evidence.first.map((e) => e.event_id),
      events.slice(0, 3).map((e) => e.event_id),
    );
    assert.deepEqual(
      evidence.last.map((e) => e.event_id),
      events.slice(6).map((e) => e.event_id),
    );
  });

  test('bounded: a book that forgot the earliest events says how many it cannot show instead of inventing them', async () => {
    const book = new EvidenceBook({ perSide: 3, maxEvents: 2 });
    const engine = wired(book);
    const outcomes: AlertOutcome[] = [];
    for (const event of burst(6)) outcomes.push(...(await engine.process(contextOf(event), false)));
    const last = outcomes.filter((o) => o.rule.id === 'ANLY-SEC-001').at(-1)!;
    const evidence = book.evidenceOf(last.alert);
    assert.equal(evidence.first.length, 0);
    assert.equal(evidence.unresolved, 3);
    assert.equal(evidence.last.length, 3);
  });
});
