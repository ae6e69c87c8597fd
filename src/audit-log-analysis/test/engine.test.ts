import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { AuditEvent } from '@auditflow/common';
import { type AlertOutcome, AnalysisEngine } from '../src/engine/analysis-engine.ts';
import { parseRules } from '../src/rules/rule-parser.ts';
import type { RuleSet } from '../src/rules/rule-set.ts';
import { DEFAULT_RULES_FILE, loadRulesFile } from '../src/rules/rules-file.ts';
import { MemoryWindowStore } from '../src/store/memory-window-store.ts';
import { contextOf, failedLogin, makeEvent, successfulLogin, T0 } from './fixtures.ts';
import { buildStream } from './stream.ts';

const S = 1000;
let defaults: RuleSet;
before(async () => {
  defaults = await loadRulesFile(DEFAULT_RULES_FILE);
});

function engineWith(rules: RuleSet, options: { latenessMs?: number; cooldownMs?: number } = {}) {
  const late: string[] = [];
  const suppressed: string[] = [];
  const engine = new AnalysisEngine({
    rules,
    store: new MemoryWindowStore(),
    settings: { latenessMs: options.latenessMs ?? 300 * S, defaultCooldownMs: options.cooldownMs ?? 300 * S, environment: 'test' },
    hooks: { lateEvent: (id) => late.push(id), suppressed: (id) => suppressed.push(id) },
  });
  const run = async (events: AuditEvent[], redelivered = false): Promise<AlertOutcome[]> => {
    const all: AlertOutcome[] = [];
    for (const event of events) all.push(...(await engine.processBatch([{ context: contextOf(event), redelivered }]))[0]!);
    return all;
  };
  return { engine, run, late, suppressed };
}

const ruleIds = (outcomes: AlertOutcome[]) => [...new Set(outcomes.map((o) => o.rule.id))].sort();

describe('analysis engine with the default rules', () => {
  test('every version of a folded alert names one event in correlation_id and raw_event_data: the one that produced it', async () => {
    const { run } = engineWith(defaults);
    const events = [0, 1, 2, 3, 4].map((i) => failedLogin('carol', 'h9', T0 + i * S));
    const outcomes = (await run(events)).filter((o) => o.rule.id === 'ANLY-SEC-001');
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ['new', 'update', 'update'],
    );
    assert.equal(new Set(outcomes.map((o) => o.alert.alert_id)).size, 1, 'one alert, folded');
    for (const [index, outcome] of outcomes.entries()) {
      const producer = events[index + 2]!.event_id;
      assert.equal(outcome.alert.correlation_id, producer);
      assert.equal((outcome.alert.raw_event_data as { event_id: string }).event_id, producer);
    }
  });

  test('ANLY-SEC-001: three failed logins per user and host within 60s open one alert shaped as the original', async () => {
    const { run } = engineWith(defaults);
    const quiet = await run([failedLogin('bob', 'h1', T0), failedLogin('bob', 'h1', T0 + 10 * S)]);
    assert.deepEqual(quiet, [], 'base rules do not alert on their own');
    const third = failedLogin('bob', 'h1', T0 + 20 * S);
    const [outcome, ...rest] = await run([third]);
    assert.equal(rest.length, 0);
    assert.equal(outcome!.kind, 'new');
    const alert = outcome!.alert;
    assert.equal(alert.alert_name, 'Multiple Failed Login Attempts');
    assert.equal(alert.alert_type, 'SECURITY');
    assert.equal(alert.severity, 'CRITICAL');
    assert.equal(alert.description, "3 or more failed login attempts for user 'bob' on 'h1' within 60 seconds.");
    assert.deepEqual(alert.analysis_rule, {
      rule_id: 'ANLY-SEC-001',
      rule_name: 'Failed Login Burst Detection',
      rule_description: 'Detects 3 failed logins within 60 seconds.',
    });
    assert.deepEqual(alert.triggered_by, { actor_type: 'USER', actor_id: 'bob', client_ip: '192.168.1.150' });
    assert.deepEqual(alert.impacted_resource, { resource_type: 'SERVER', resource_id: 'h1', server_hostname: 'h1' });
    assert.equal(alert.action_observed, 'LOGIN_FAILURE');
    assert.equal(alert.correlation_id, third.event_id);
    assert.deepEqual(alert.raw_event_data, third);
    assert.deepEqual(alert.metadata, {
      tags: ['brute-force', 'authentication', 'critical'],
      environment: 'test',
      remediation_guidance: defaults.byId.get('ANLY-SEC-001')!.alert.remediationGuidance,
      playbook_url: 'https://example.com/playbooks/failed_login_burst',
    });
    assert.equal(alert.source_service_name, 'audit-event-generator');
    assert.equal(alert.count, 3);
    assert.equal(alert.first_seen, new Date(T0).toISOString());
    assert.equal(alert.last_seen, new Date(T0 + 20 * S).toISOString());
    assert.deepEqual(alert.group_key, { user_id: 'bob', server_hostname: 'h1' });
    assert.match(alert.fingerprint!, /^[0-9a-f]{64}$/);
    assert.equal(alert.event_ids!.length, 3);
    assert.ok(!Number.isNaN(Date.parse(alert.timestamp)) && alert.timestamp.endsWith('Z') && !alert.timestamp.includes('+'));
  });

  test('ANLY-SEC-001 groups per user and host and ignores bursts spread wider than 60s', async () => {
    const { run } = engineWith(defaults);
    const out = await run([
      failedLogin('bob', 'h1', T0),
      failedLogin('bob', 'h2', T0 + S),
      failedLogin('alice', 'h1', T0 + 2 * S),
      failedLogin('bob', 'h1', T0 + 40 * S),
      failedLogin('bob', 'h1', T0 + 101 * S),
    ]);
    assert.deepEqual(out, []);
  });

  test('repeats fold into the same alert id with a growing count; a redelivery changes nothing', async () => {
    const { run, suppressed } = engineWith(defaults);
    const events = [0, 1, 2, 3, 4].map((i) => failedLogin('eve', 'h1', T0 + i * S));
    const outcomes = await run(events);
    const ids = new Set(outcomes.filter((o) => o.rule.id === 'ANLY-SEC-001').map((o) => o.alert.alert_id));
    assert.equal(ids.size, 1);
    assert.deepEqual(outcomes.map((o) => [o.kind, o.alert.count]), [['new', 3], ['update', 4], ['update', 5]]);
    assert.ok(suppressed.length >= 2);
    assert.deepEqual(await run([events[4]!]), [], 'a duplicate that changes nothing publishes nothing');
    const again = await run([events[4]!], true);
    assert.equal(again.length, 1, 'a redelivery republishes in case the first publish was lost');
    assert.equal(again[0]!.alert.alert_id, [...ids][0]);
    assert.equal(again[0]!.alert.count, 5);
  });

  test('out-of-order events give the same folded alert as in-order ones', async () => {
    const events = [0, 5, 10, 15, 20, 25].map((i) => failedLogin('oo', 'h1', T0 + i * S));
    const final = async (order: AuditEvent[]) => {
      const outcomes = (await engineWith(defaults).run(order)).filter((o) => o.rule.id === 'ANLY-SEC-001');
      const last = outcomes.reduce((a, b) => (b.alert.count! >= a.alert.count! ? b : a));
      return [last.alert.count, last.alert.first_seen, last.alert.last_seen];
    };
    const inOrder = await final(events);
    assert.deepEqual(await final([...events].reverse()), inOrder);
    assert.deepEqual(await final([events[3]!, events[0]!, events[5]!, events[1]!, events[4]!, events[2]!]), inOrder);
    assert.deepEqual(inOrder, [6, new Date(T0).toISOString(), new Date(T0 + 25 * S).toISOString()]);
  });

  test('late events are not counted and are reported', async () => {
    const { run, late } = engineWith(defaults, { latenessMs: 30 * S });
    await run([failedLogin('lt', 'h1', T0 + 100 * S), failedLogin('lt', 'h1', T0 + 99 * S)]);
    const out = await run([failedLogin('lt', 'h1', T0 + 60 * S)]);
    assert.deepEqual(out, []);
    assert.ok(late.includes('ANLY-SEC-001'));
  });

  test('ANLY-SEC-002: exact sensitive paths only, in details or at the top level', async () => {
    const { run } = engineWith(defaults);
    const file = (resource: string, where: 'details' | 'top' = 'details') =>
      makeEvent({
        event_type: 'file_modified',
        severity: 'CRITICAL',
        action_result: 'MODIFIED',
        user_id: 'app_user',
        details: where === 'details' ? { resource, old_checksum: 'a', new_checksum: 'b' } : {},
        ...(where === 'top' ? { resource } : {}),
      } as never);
    assert.deepEqual(await run([file('/etc/passwd.bak'), file('/etc/sudoers.d/extra'), file('/var/www/html/index.php')]), []);
    const [hit] = await run([file('/etc/passwd')]);
    assert.equal(hit!.rule.id, 'ANLY-SEC-002');
    assert.equal(hit!.alert.alert_name, 'Sensitive File Modification Detected');
    assert.equal(hit!.alert.analysis_rule?.rule_name, 'Sensitive File Modification Detection');
    assert.deepEqual(hit!.alert.impacted_resource, { resource_type: 'FILE', resource_id: '/etc/passwd', server_hostname: 'prod-web-01' });
    assert.equal(hit!.alert.action_observed, 'FILE_MODIFIED');
    assert.equal(hit!.alert.description, "Sensitive file '/etc/passwd' modified by 'app_user' on 'prod-web-01'.");
    assert.deepEqual(hit!.alert.metadata?.['tags'], ['data-integrity', 'compliance', 'critical-infrastructure']);
    const [legacy] = await run([file('/etc/shadow', 'top')]);
    assert.equal(legacy!.alert.impacted_resource?.resource_id, '/etc/shadow');
  });

  test('ANLY-SEC-003: five distinct users failing from one address within 10 minutes', async () => {
    const { run } = engineWith(defaults);
    const users = ['u1', 'u2', 'u3', 'u4'];
    const quiet = await run(users.map((u, i) => failedLogin(u, 'h1', T0 + i * 60 * S, '10.0.0.9')));
    assert.deepEqual(ruleIds(quiet), []);
    assert.deepEqual(ruleIds(await run([failedLogin('u1', 'h1', T0 + 300 * S, '10.0.0.9')])), [], 'a repeated user is not distinct');
    const out = await run([failedLogin('u5', 'h2', T0 + 540 * S, '10.0.0.9')]);
    assert.deepEqual(ruleIds(out), ['ANLY-SEC-003']);
    assert.deepEqual(out[0]!.alert.group_key, { 'details.ip_address': '10.0.0.9' });
  });

  test('ANLY-SEC-004: a success after a brute-force burst, chained on ANLY-SEC-001, in either arrival order', async () => {
    const burst = (user: string) => [0, 1, 2].map((i) => failedLogin(user, 'h1', T0 + i * S));
    const inOrder = engineWith(defaults);
    const out = await inOrder.run([...burst('x'), successfulLogin('x', 'h1', T0 + 300 * S)]);
    assert.deepEqual(ruleIds(out), ['ANLY-SEC-001', 'ANLY-SEC-004']);
    const reversed = engineWith(defaults);
    const out2 = await reversed.run([successfulLogin('y', 'h1', T0 + 300 * S), ...burst('y')]);
    assert.deepEqual(ruleIds(out2), ['ANLY-SEC-001', 'ANLY-SEC-004']);
    const tooLate = engineWith(defaults);
    assert.deepEqual(ruleIds(await tooLate.run([...burst('z'), successfulLogin('z', 'h1', T0 + 2 * S + 601 * S)])), ['ANLY-SEC-001']);
    const before = engineWith(defaults);
    assert.deepEqual(ruleIds(await before.run([successfulLogin('w', 'h1', T0 - S), ...burst('w')])), ['ANLY-SEC-001'], 'success before the burst');
  });

  test('ANLY-SEC-005: sudo by users outside the allowlist', async () => {
    const { run } = engineWith(defaults);
    const sudo = (user: string) => makeEvent({ event_type: 'sudo_command', severity: 'INFO', action_result: 'SUCCESS', user_id: user, details: { command: '/bin/rm -rf /' } } as never);
    assert.deepEqual(await run([sudo('devops_admin'), sudo('monitoring_agent')]), []);
    const out = await run([sudo('guest_user')]);
    assert.deepEqual(ruleIds(out), ['ANLY-SEC-005']);
    assert.match(out[0]!.alert.description!, /guest_user.*rm -rf/);
  });

  test('ANLY-SEC-006: stopping a security service alerts; other services do not', async () => {
    const { run } = engineWith(defaults);
    const stop = (unit: string) => makeEvent({ event_type: 'service_status_change', action_result: 'STOPPED', details: { resource: unit } } as never);
    assert.deepEqual(await run([stop('nginx.service'), stop('auditd')]), []);
    const out = await run([stop('falco.service')]);
    assert.deepEqual(ruleIds(out), ['ANLY-SEC-006']);
    assert.deepEqual(out[0]!.alert.impacted_resource, { resource_type: 'SERVICE', resource_id: 'falco.service', server_hostname: 'prod-web-01' });
  });

  test('ANLY-SEC-007: accounts created outside 08:00-18:00, edges included', async () => {
    const { run } = engineWith(defaults);
    const create = (time: string, user = 'app_user') =>
      makeEvent({ timestamp: `2026-03-02T${time}Z`, event_type: 'user_account_management', action_result: 'CREATED', user_id: user, details: { resource: 'new_user_abc123' } } as never);
    assert.deepEqual(await run([create('08:00:00'), create('12:00:00'), create('17:59:59.999')]), []);
    assert.deepEqual(ruleIds(await run([create('18:00:00', 'a')])), ['ANLY-SEC-007']);
    assert.deepEqual(ruleIds(await run([create('07:59:59', 'b')])), ['ANLY-SEC-007']);
    assert.deepEqual(ruleIds(await run([create('03:00:00', 'c')])), ['ANLY-SEC-007']);
  });

  test('one event feeds every rule it matches', async () => {
    const rules = parseRules(
      [
        'title: any login\nid: a\ngenerate: true\ndetection:\n  s: { event_type: user_login }\n  condition: s',
        'title: failures\nid: b\ndetection:\n  s: { action_result: FAILURE }\n  condition: s',
        'title: count\nid: c\ncorrelation: { type: event_count, rules: [b], group-by: [user_id], timespan: 1m, condition: { gte: 1 } }',
        'title: no group\nid: d\ncorrelation: { type: event_count, rules: [a], timespan: 1m, condition: { gte: 2 } }',
      ].join('\n---\n'),
      'multi.yaml',
    );
    const { run } = engineWith(rules);
    assert.deepEqual(ruleIds(await run([failedLogin('m', 'h', T0)])), ['a', 'c']);
    const second = await run([failedLogin('n', 'h2', T0 + S)]);
    assert.deepEqual(ruleIds(second), ['a', 'c', 'd'], 'a correlation without group-by counts across all events');
    assert.deepEqual(second.find((o) => o.rule.id === 'd')!.alert.group_key, {});
  });

  test('temporal (any order) fires once every listed rule matched within the timespan', async () => {
    const rules = parseRules(
      [
        'title: sudo\nid: sudo\ndetection:\n  s: { event_type: sudo_command }\n  condition: s',
        'title: stop\nid: stop\ndetection:\n  s: { event_type: service_status_change, action_result: STOPPED }\n  condition: s',
        'title: both\nid: both\ncorrelation: { type: temporal, rules: [sudo, stop], group-by: [server_hostname], timespan: 5m }',
      ].join('\n---\n'),
      'temporal.yaml',
    );
    const sudo = (at: number, host: string) => makeEvent({ at, server_hostname: host, event_type: 'sudo_command', action_result: 'SUCCESS', details: {} } as never);
    const stop = (at: number, host: string) => makeEvent({ at, server_hostname: host, event_type: 'service_status_change', action_result: 'STOPPED', details: { resource: 'x.service' } } as never);
    const { run } = engineWith(rules);
    assert.deepEqual(ruleIds(await run([stop(T0 + 60 * S, 'a'), sudo(T0, 'a')])), ['both'], 'reverse order');
    assert.deepEqual(ruleIds(await run([sudo(T0, 'b'), stop(T0 + 301 * S, 'b')])), [], 'too far apart');
    assert.deepEqual(ruleIds(await run([sudo(T0, 'c'), stop(T0 + S, 'd')])), [], 'different groups');
  });

  test('detection suppression folds repeats per group until the cooldown passes in event time', async () => {
    const rules = parseRules('title: x\nid: x\nsuppression: { group-by: [server_hostname], cooldown: 60s }\ndetection:\n  s: { event_type: user_login }\n  condition: s', 's.yaml');
    const { run } = engineWith(rules);
    const out = await run([
      failedLogin('a', 'h1', T0),
      failedLogin('b', 'h1', T0 + 30 * S),
      failedLogin('c', 'h2', T0 + 31 * S),
      failedLogin('d', 'h1', T0 + 90 * S),
      failedLogin('e', 'h1', T0 + 151 * S),
    ]);
    const h1 = out.filter((o) => o.alert.group_key?.['server_hostname'] === 'h1');
    assert.deepEqual(h1.map((o) => o.kind), ['new', 'update', 'update', 'new']);
    assert.equal(new Set(h1.slice(0, 3).map((o) => o.alert.alert_id)).size, 1);
    assert.notEqual(h1[3]!.alert.alert_id, h1[0]!.alert.alert_id);
    assert.equal(out.filter((o) => o.alert.group_key?.['server_hostname'] === 'h2').length, 1);
  });

  test('events no rule matches take the fast path and touch no store', async () => {
    const { run } = engineWith(defaults);
    const start = makeEvent({ event_type: 'service_status_change', action_result: 'STARTED', details: { resource: 'nginx.service' } } as never);
    assert.deepEqual(await run([start]), []);
  });
});

describe('alert ids depend only on the events, not on their order', () => {
  // A detection episode opens with the first of its events the service sees, so its id follows
  // that event; correlations open with a window, whose entries do not depend on arrival order.
  test('every correlation type gives the same alert ids when nearby events arrive in another order (as after a requeue)', async () => {
    const events = buildStream({ groups: 12 });
    const idsOf = async (stream: AuditEvent[]) => {
      const { run } = engineWith(defaults);
      const outcomes = (await run(stream)).filter((o) => o.rule.kind === 'correlation');
      return [...new Set(outcomes.map((o) => `${o.rule.id}|${o.alertId}`))].sort();
    };
    const inOrder = await idsOf(events);
    // Reverse each run of 40 events: far enough to swap burst members and chain stages, within the lateness.
    const shuffled: AuditEvent[] = [];
    for (let i = 0; i < events.length; i += 40) shuffled.push(...events.slice(i, i + 40).reverse());
    assert.deepEqual(await idsOf(shuffled), inOrder);
    const types = new Set(inOrder.map((line) => line.split('|')[0]));
    for (const rule of ['ANLY-SEC-001', 'ANLY-SEC-003', 'ANLY-SEC-004']) assert.ok(types.has(rule), `the stream raises ${rule}`);
  });
});
