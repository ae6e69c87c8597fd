import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { AuditEvent } from '@auditflow/common';
import { Normaliser } from '../../audit-ingest/src/normalise/normaliser.ts';
import { ZoneOffset } from '../../audit-ingest/src/normalise/syslog-parser.ts';
import { AnalysisEngine } from '../src/engine/analysis-engine.ts';
import { DetectionIndex, requirementOfRule } from '../src/rules/rule-index.ts';
import { parseRules } from '../src/rules/rule-parser.ts';
import { loadRulesFileSync } from '../src/rules/rules-file.ts';
import { RulesError } from '../src/rules/rules-error.ts';
import { MemoryWindowStore } from '../src/store/memory-window-store.ts';
import { contextOf, makeEvent, T0 } from './fixtures.ts';

const EXAMPLES = join(import.meta.dirname, '..', 'rules', 'sigma-examples');
const normaliser = new Normaliser({ clusterName: 'pi-cluster', zone: new ZoneOffset('UTC') });
const meta = { kind: 'syslog' as const, transport: 'tcp', peer: '10.0.0.5:40000' };

function syslogEvent(line: string): AuditEvent {
  const result = normaliser.syslog(Buffer.from(`<86>1 ${new Date().toISOString()} pi-a ${line}`), meta);
  assert.equal(result.kind, 'event', line);
  return (result as { event: AuditEvent }).event;
}

function auditEvent(fields: Record<string, unknown>): AuditEvent {
  const at = new Date().toISOString();
  const result = normaliser.k8sAudit(
    { kind: 'Event', apiVersion: 'audit.k8s.io/v1', auditID: crypto.randomUUID(), stage: 'ResponseComplete', stageTimestamp: at, user: { username: 'alice' }, ...fields },
    undefined,
    { kind: 'k8s_audit', transport: 'https', peer: '10.0.0.1:6443' },
  );
  assert.equal(result.kind, 'event');
  return (result as { event: AuditEvent }).event;
}

async function fired(rulesText: string, events: AuditEvent[]): Promise<string[]> {
  const engine = new AnalysisEngine({
    rules: parseRules(rulesText, 'sigma.yml'),
    store: new MemoryWindowStore(),
    settings: { latenessMs: 300_000, defaultCooldownMs: 300_000, environment: 'test' },
  });
  const ids: string[] = [];
  for (const event of events) for (const outcome of (await engine.processBatch([{ context: contextOf(event), redelivered: false }]))[0]!) ids.push(outcome.rule.id);
  return ids;
}

function problem(text: string): string {
  try {
    parseRules(text, 'community.yml');
  } catch (error) {
    assert.ok(error instanceof RulesError);
    return error.message;
  }
  assert.fail('the rule loaded');
}

describe('Sigma rules load unmodified and match normalised events', () => {
  test('every example rule (one per standard logsource) loads unmodified from a rules directory', () => {
    const rules = loadRulesFileSync(EXAMPLES);
    assert.equal(readdirSync(EXAMPLES).length, 6);
    assert.ok(rules.rules.length >= 7);
  });

  const cases: [string, string, AuditEvent, AuditEvent][] = [
    ['linux_auth_local_account_deleted.yml', 'linux/auth', syslogEvent("userdel 6003 - - delete user 'olduser'"), syslogEvent("userdel 6003 - - removed group 'olduser' owned by 'olduser'")],
    ['linux_sshd_root_login_accepted.yml', 'linux/sshd', syslogEvent('sshd 9 - - Accepted publickey for root from 192.0.2.7 port 50000 ssh2'), syslogEvent('sshd 9 - - Accepted publickey for pi from 192.0.2.7 port 50000 ssh2')],
    ['linux_sudo_interactive_root_shell.yml', 'linux/sudo', syslogEvent('sudo 5 - - ansible : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/bash'), syslogEvent('sudo 5 - - ansible : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/bashtop')],
    ['linux_syslog_promiscuous_mode.yml', 'linux/syslog', syslogEvent(`audisp-syslog 8 - - type=ANOM_PROMISCUOUS msg=audit(${Math.floor(Date.now() / 1000)}.1:2): dev=eth0 prom=256 old_prom=0 auid=1000 uid=0 gid=0 ses=3`), syslogEvent(`audisp-syslog 8 - - type=ANOM_PROMISCUOUS msg=audit(${Math.floor(Date.now() / 1000)}.1:3): dev=eth0 prom=0 old_prom=256 auid=1000 uid=0 gid=0 ses=3`)],
    ['kubernetes_audit_events_deleted.yml', 'kubernetes/audit', auditEvent({ verb: 'deletecollection', objectRef: { resource: 'events', namespace: 'prod' }, responseStatus: { code: 200 } }), auditEvent({ verb: 'list', objectRef: { resource: 'events', namespace: 'prod' }, responseStatus: { code: 200 } })],
  ];
  for (const [file, logsource, hit, miss] of cases) {
    test(`${logsource}: ${file} fires on its line and not on the look-alike`, async () => {
      const text = readFileSync(join(EXAMPLES, file), 'utf8');
      const id = /^id: (\S+)$/m.exec(text)![1]!;
      assert.deepEqual(await fired(text, [hit]), [id]);
      assert.deepEqual(await fired(text, [miss]), []);
    });
  }

  test('a logsource scopes the rule: an sshd rule never sees sudo lines, a Kubernetes rule never sees syslog', async () => {
    const sshd = 'title: t\nid: t1\nlogsource: { product: linux, service: sshd }\ndetection:\n  k: [root]\n  condition: k\n';
    assert.deepEqual(await fired(sshd, [syslogEvent('sudo 5 - - root : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/bin/ls')]), []);
    assert.deepEqual(await fired(sshd, [syslogEvent('sshd 9 - - Failed password for root from 192.0.2.7 port 50000 ssh2')]), ['t1']);
  });

  test("Sigma's value semantics: case-insensitive, * and ? wildcards, escapes, |cased, |re, |all", async () => {
    const rule = (selection: string) => `title: t\nid: t1\nlogsource: { product: linux, service: sshd }\ndetection:\n  s:\n${selection}\n  condition: s\n`;
    const event = syslogEvent('sshd 9 - - Failed password for Root from 192.0.2.7 port 50000 ssh2');
    assert.deepEqual(await fired(rule('    user: root'), [event]), ['t1']);
    assert.deepEqual(await fired(rule('    user|cased: root'), [event]), []);
    assert.deepEqual(await fired(rule("    message: 'failed * for r??t from *'"), [event]), ['t1']);
    assert.deepEqual(await fired(rule("    message: 'failed \\* for *'"), [event]), []);
    assert.deepEqual(await fired(rule("    message|re: '^Failed \\w+ for Root'"), [event]), ['t1']);
    assert.deepEqual(await fired(rule("    message|contains|all: [password, 'port 5']"), [event]), ['t1']);
    assert.deepEqual(await fired(rule("    message|contains|all: [password, publickey]"), [event]), []);
    assert.deepEqual(await fired(rule('    src_ip|cidr: 192.0.2.0/24'), [event]), ['t1']);
  });
});

describe('Sigma rules go through the rule index', () => {
  const now = Math.floor(Date.now() / 1000);
  const events = [
    syslogEvent('sshd 9 - - Accepted publickey for root from 192.0.2.7 port 50000 ssh2'),
    syslogEvent('sshd 9 - - Failed password for Root from 192.0.2.7 port 50000 ssh2'),
    syslogEvent('sudo 5 - - ansible : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/bash'),
    syslogEvent("userdel 6003 - - delete user 'olduser'"),
    syslogEvent(`audisp-syslog 8 - - type=ANOM_PROMISCUOUS msg=audit(${now}.1:2): dev=eth0 prom=256 old_prom=0 auid=1000 uid=0 gid=0 ses=3`),
    auditEvent({ verb: 'deletecollection', objectRef: { resource: 'events', namespace: 'prod' }, responseStatus: { code: 200 } }),
    auditEvent({ verb: 'list', objectRef: { resource: 'events', namespace: 'prod' }, responseStatus: { code: 200 } }),
  ];

  test("a Sigma rule is indexed under its logsource's source kind and program, its fields read through the mapping, and still matches", () => {
    const sshd = parseRules('title: t\nid: t1\nlogsource: { product: linux, service: sshd }\ndetection:\n  s: { user: root }\n  condition: s\n', 'sigma.yml').detections[0]!;
    const requirement = requirementOfRule(sshd);
    assert.deepEqual([...requirement.literals.get('source.kind')!].sort(), ['journald', 'syslog']);
    assert.deepEqual([...requirement.literals.get('source.program')!].sort(), ['sshd', 'sshd-auth', 'sshd-session']);
    assert.deepEqual([...requirement.present], ['user_id'], 'the Sigma field user is AuditFlow user_id');
    assert.equal(requirement.literals.has('user_id'), false, 'Sigma compares case-insensitively: root is no exact-string key');
    const index = new DetectionIndex([sshd]);
    assert.deepEqual(index.stats().unindexed, 0);
    const [accepted, failedRoot, sudo] = events.map((event) => contextOf(event));
    for (const context of [accepted!, failedRoot!]) {
      assert.deepEqual(index.candidates(context), [sshd]);
      assert.equal(sshd.matches(context), true, 'root matches Root: Sigma semantics are kept');
    }
    assert.deepEqual(index.candidates(sudo!), [], 'a sudo line is not even tested');
    assert.deepEqual(index.candidates(contextOf(events[5]!)), [], 'nor a Kubernetes audit event');
  });

  test('every example rule an event matches is among its candidates, in file order, and none is left unindexed', () => {
    const rules = loadRulesFileSync(EXAMPLES);
    const index = new DetectionIndex(rules.detections);
    assert.equal(index.stats().unindexed, 0, JSON.stringify(index.stats()));
    let matched = 0;
    for (const event of events) {
      const context = contextOf(event);
      const candidates = index.candidates(context);
      const matching = rules.detections.filter((rule) => rule.matches(context));
      matched += matching.length;
      assert.deepEqual(candidates.filter((rule) => rule.matches(context)), matching);
      assert.ok(candidates.length < rules.detections.length, `${event.event_type}: ${candidates.length} candidates of ${rules.detections.length}`);
    }
    assert.ok(matched >= 4, 'the events exercise the rules');
  });
});

describe('what AuditFlow does not support is refused at load with file:line:col', () => {
  const base = (detection: string, logsource = '{ product: linux, service: sshd }') => `title: t\nid: t1\nlogsource: ${logsource}\ndetection:\n${detection}`;
  const refusals: [string, string, RegExp][] = [
    ['an encoding modifier', base('  s:\n    message|base64offset|contains: secret\n  condition: s\n'), /community\.yml:6:5: modifier 'base64offset' is not supported/],
    ['windash', base('  s:\n    message|windash|contains: -x\n  condition: s\n'), /community\.yml:6:5: modifier 'windash' is not supported/],
    ['placeholders', base('  s:\n    user|expand: "%admins%"\n  condition: s\n'), /community\.yml:6:5: modifier 'expand' is not supported/],
    ['an unknown modifier', base('  s:\n    user|fuzzy: root\n  condition: s\n'), /community\.yml:6:5: unknown Sigma modifier 'fuzzy'/],
    ['a field the logsource does not have', base('  s:\n    CommandLine: whoami\n  condition: s\n'), /community\.yml:6:5: field 'CommandLine' does not exist in linux\/sshd/],
    ['a Kubernetes field that is not in the audit Event', base('  s:\n    objectref.resource: pods\n  condition: s\n', '{ product: kubernetes, service: audit }'), /community\.yml:6:5: field 'objectref\.resource' does not exist in kubernetes\/audit/],
    ['keywords without message text', base('  k: [exec]\n  condition: k\n', '{ product: kubernetes, service: audit }'), /community\.yml:5:6: kubernetes\/audit has no message text/],
    ['an aggregation', base('  s:\n    user: root\n  condition: s | count() by src_ip > 5\n'), /community\.yml:7:16: Sigma aggregations/],
    ['timeframe', base('  s:\n    user: root\n  timeframe: 5m\n  condition: s\n'), /community\.yml:7:3: 'timeframe' with an aggregation condition is not supported/],
    ['a list of conditions', base('  s:\n    user: root\n  condition: [s, not s]\n'), /community\.yml:7:14: a list of conditions is not supported/],
    ['a logsource AuditFlow does not receive', base('  s:\n    user: root\n  condition: s\n', '{ product: windows, service: security }'), /community\.yml:3:12: logsource windows\/security is not one AuditFlow receives/],
    ['a logsource category', base('  s:\n    user: root\n  condition: s\n', '{ product: linux, category: process_creation }'), /community\.yml:3:12: logsource category 'process_creation' is not supported/],
    [
      'correlation aliases',
      'title: b\nid: b\nname: b\nlogsource: { product: linux, service: sshd }\ndetection:\n  s: { user: root }\n  condition: s\n---\ntitle: c\nid: c\ncorrelation:\n  type: temporal\n  rules: [b, b2]\n  aliases: { ip: { b: src_ip } }\n  timespan: 1m\n',
      /community\.yml:14:3: correlation aliases are not supported/,
    ],
    ['a value_sum correlation', 'title: c\nid: c\ncorrelation:\n  type: value_sum\n  rules: [x]\n  timespan: 1m\n', /community\.yml:4:9: correlation type must be one of/],
  ];
  for (const [what, text, expected] of refusals) {
    test(what, () => assert.match(problem(text), expected));
  }

  test('in a rules directory, the problem names its file, and rules may reference rules of another file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'af-sigma-dir-'));
    try {
      writeFileSync(join(dir, 'a.yml'), 'title: base\nid: base\nname: sshd_failure\nlogsource: { product: linux, service: sshd }\ndetection:\n  k: [Failed password]\n  condition: k\n');
      writeFileSync(join(dir, 'b.yml'), 'title: c\nid: c\ncorrelation: { type: event_count, rules: [sshd_failure], group-by: [src_ip], timespan: 1m, condition: { gte: 3 } }\n');
      const rules = loadRulesFileSync(dir);
      const correlation = rules.correlations[0]!;
      assert.deepEqual(correlation.groupBy.map((f) => f.path.join('.')), ['details.ip_address'], 'the Sigma field src_ip reads the mapped field');
      writeFileSync(join(dir, 'c.yaml'), 'title: bad\nid: bad\nlogsource: { product: linux, service: sshd }\ndetection:\n  s:\n    user|utf16le: x\n  condition: s\n');
      assert.throws(() => loadRulesFileSync(dir), (error: unknown) => error instanceof RulesError && error.message.includes(`${join(dir, 'c.yaml')}:6:5: modifier 'utf16le'`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('an older match for a group with a newer episode', () => {
  test('is neither folded nor dropped silently: the stale hook names it', async () => {
    const stale: string[] = [];
    const engine = new AnalysisEngine({
      rules: parseRules('title: d\nid: d\ndetection:\n  s: { event_type: x }\n  condition: s\nsuppression: { cooldown: 10s }\n', 'd.yaml'),
      store: new MemoryWindowStore(),
      settings: { latenessMs: 3_600_000, defaultCooldownMs: 10_000, environment: 'test' },
      hooks: { stale: (ruleId, eventId) => stale.push(`${ruleId}|${eventId}`) },
    });
    const event = (at: number) => makeEvent({ event_type: 'x', at });
    for (const e of [event(T0), event(T0 + 60_000)]) await engine.processBatch([{ context: contextOf(e), redelivered: false }]);
    const older = event(T0 + 30_000);
    const outcomes = (await engine.processBatch([{ context: contextOf(older), redelivered: false }]))[0]!;
    assert.deepEqual(outcomes, []);
    assert.deepEqual(stale, [`d|${older.event_id}`]);
  });
});
