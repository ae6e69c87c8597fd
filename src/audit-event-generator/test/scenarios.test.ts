import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AuditEvent, assertAuditEvent } from '@auditflow/common';
import fc from 'fast-check';
import {
  buildScenarioEvents,
  isSafelyOffHours,
  SCENARIO_NAMES,
  SCENARIOS,
  SENSITIVE_FILES,
  SOURCE_SERVICES,
  SUDO_ALLOWLIST,
  seededRandom,
} from '../src/index.ts';

const NOW = new Date('2026-06-10T12:00:00.000Z');
const times = (events: AuditEvent[]) => events.map((event) => Date.parse(event.timestamp));
const span = (events: AuditEvent[]) => Math.max(...times(events)) - Math.min(...times(events));

/** Arbitrary instants over a few years, including every hour of the day. */
const anyNow = fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2030-12-31T23:59:59Z'), noInvalidDate: true });
const anySeed = fc.integer({ min: 0, max: 2 ** 31 - 1 });

function isFailedLogin(event: AuditEvent): boolean {
  return event.event_type === 'user_login' && event.action_result === 'FAILURE';
}

describe('scenario catalogue', () => {
  test('names and the rules each one must trigger', () => {
    assert.deepEqual(
      SCENARIOS.map((s) => [s.name, [...s.expectedRules]]),
      [
        ['brute-force', ['ANLY-SEC-001']],
        ['password-spraying', ['ANLY-SEC-003']],
        ['brute-force-then-success', ['ANLY-SEC-001', 'ANLY-SEC-004']],
        ['sensitive-file-modified', ['ANLY-SEC-002']],
        ['unexpected-sudo', ['ANLY-SEC-005']],
        ['audit-service-stopped', ['ANLY-SEC-006']],
        ['off-hours-account', ['ANLY-SEC-007']],
      ],
    );
    for (const scenario of SCENARIOS) assert.ok(scenario.description.length > 10);
  });

  test('an unknown scenario is AF_UNKNOWN_SCENARIO', () => {
    assert.throws(
      () => buildScenarioEvents('no-such-scenario'),
      (error: unknown) => (error as { code?: string }).code === 'AF_UNKNOWN_SCENARIO',
    );
    // Inherited object keys are not scenarios.
    assert.throws(() => buildScenarioEvents('constructor'), { code: 'AF_UNKNOWN_SCENARIO' });
  });

  test('every scenario: valid events, oldest first, ending at now, tagged with the scenario', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SCENARIO_NAMES), anyNow, anySeed, (name, now, seed) => {
        const events = buildScenarioEvents(name, { now, random: seededRandom(seed) });
        assert.ok(events.length > 0);
        for (const event of events) {
          assertAuditEvent(event);
          assert.equal(event.scenario, name);
          assert.equal(event.source_service, SOURCE_SERVICES.scenario);
          assert.equal('resource' in event, false, 'resource belongs in details');
        }
        const ts = times(events);
        for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! > ts[i - 1]!, 'strictly chronological');
        if (name !== 'off-hours-account') assert.equal(ts[ts.length - 1], now.getTime());
        assert.equal(new Set(events.map((e) => e.event_id)).size, events.length);
      }),
      { numRuns: 300 },
    );
  });

  test('user, host and ip options are used (tests isolate runs with them)', () => {
    for (const name of SCENARIO_NAMES) {
      const events = buildScenarioEvents(name, { now: NOW, user: 'iso_user', host: 'iso-host', ip: '198.51.100.9' });
      for (const event of events) assert.equal(event.server_hostname, 'iso-host');
      if (name !== 'password-spraying') for (const event of events) assert.equal(event.user_id, 'iso_user');
      for (const event of events.filter((e) => e.event_type === 'user_login')) {
        assert.equal(event.details.ip_address, '198.51.100.9');
      }
    }
  });
});

describe('scenario invariants', () => {
  test('brute-force: 5 failures, one user, host and address, within 10 s', () => {
    fc.assert(
      fc.property(anyNow, anySeed, (now, seed) => {
        const events = buildScenarioEvents('brute-force', { now, random: seededRandom(seed) });
        assert.equal(events.length, 5);
        assert.ok(events.every(isFailedLogin));
        assert.equal(new Set(events.map((e) => `${e.user_id}|${e.server_hostname}|${String(e.details.ip_address)}`)).size, 1);
        assert.ok(span(events) <= 10_000);
      }),
    );
  });

  test('password-spraying: 6 distinct users from one address, each failing once, within a minute', () => {
    fc.assert(
      fc.property(anyNow, anySeed, fc.option(fc.constantFrom('pinned_user', 'admin')), (now, seed, user) => {
        const events = buildScenarioEvents('password-spraying', {
          now,
          random: seededRandom(seed),
          ...(user === null ? {} : { user }),
        });
        assert.equal(events.length, 6);
        assert.ok(events.every(isFailedLogin));
        assert.equal(new Set(events.map((e) => e.user_id)).size, 6, 'users must be distinct');
        assert.equal(new Set(events.map((e) => e.details.ip_address)).size, 1, 'one source address');
        if (user !== null) assert.ok(events.some((e) => e.user_id === user));
        assert.ok(span(events) <= 60_000);
      }),
    );
  });

  test('brute-force-then-success: 4 failures then 1 success, same user and host, within 30 s', () => {
    fc.assert(
      fc.property(anyNow, anySeed, (now, seed) => {
        const events = buildScenarioEvents('brute-force-then-success', { now, random: seededRandom(seed) });
        assert.deepEqual(
          events.map((e) => e.action_result),
          ['FAILURE', 'FAILURE', 'FAILURE', 'FAILURE', 'SUCCESS'],
        );
        assert.ok(events.every((e) => e.event_type === 'user_login'));
        assert.equal(new Set(events.map((e) => `${e.user_id}|${e.server_hostname}`)).size, 1);
        assert.ok(span(events) <= 30_000);
      }),
    );
  });

  test('sensitive-file-modified: MODIFIED of exactly one of the sensitive paths, in details', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(anySeed, (seed) => {
        const [event, ...rest] = buildScenarioEvents('sensitive-file-modified', { now: NOW, random: seededRandom(seed) });
        assert.equal(rest.length, 0);
        assert.equal(event!.event_type, 'file_modified');
        assert.equal(event!.action_result, 'MODIFIED');
        assert.ok((SENSITIVE_FILES as readonly string[]).includes(String(event!.details.resource)));
        seen.add(String(event!.details.resource));
      }),
      { numRuns: 200 },
    );
    assert.equal(seen.size, SENSITIVE_FILES.length, 'every sensitive file shows up');
  });

  test('unexpected-sudo never picks an allowlisted user, and refuses one that is given', () => {
    fc.assert(
      fc.property(anySeed, (seed) => {
        const [event] = buildScenarioEvents('unexpected-sudo', { now: NOW, random: seededRandom(seed) });
        assert.equal(event!.event_type, 'sudo_command');
        assert.ok(!SUDO_ALLOWLIST.includes(event!.user_id), `allowlisted user ${event!.user_id}`);
      }),
      { numRuns: 300 },
    );
    assert.equal(buildScenarioEvents('unexpected-sudo', { user: 'eve' })[0]!.user_id, 'eve');
    for (const user of SUDO_ALLOWLIST) {
      assert.throws(() => buildScenarioEvents('unexpected-sudo', { user }), { code: 'AF_SCENARIO_OPTION_INVALID' });
    }
  });

  test('audit-service-stopped: auditd.service STOPPED', () => {
    const [event] = buildScenarioEvents('audit-service-stopped', { now: NOW });
    assert.equal(event!.event_type, 'service_status_change');
    assert.equal(event!.action_result, 'STOPPED');
    assert.equal(event!.details.resource, 'auditd.service');
  });

  test('off-hours-account: CREATED outside 08:00-18:00 UTC, never after now', () => {
    fc.assert(
      fc.property(anyNow, anySeed, (now, seed) => {
        const [event] = buildScenarioEvents('off-hours-account', { now, random: seededRandom(seed) });
        assert.equal(event!.event_type, 'user_account_management');
        assert.equal(event!.action_result, 'CREATED');
        assert.equal(event!.details.home_directory, `/home/${String(event!.details.resource)}`);
        const at = new Date(event!.timestamp);
        const hour = at.getUTCHours();
        assert.ok(hour < 8 || hour >= 18, `hour ${hour} is within working hours`);
        assert.ok(at.getTime() <= now.getTime());
        if (isSafelyOffHours(now)) assert.equal(at.getTime(), now.getTime());
        else {
          assert.ok(hour >= 2 && hour < 5, `expected the 02:00-05:00 night, got ${event!.timestamp}`);
          assert.ok(now.getTime() - at.getTime() < 24 * 3_600_000, 'the most recent night');
        }
      }),
      { numRuns: 500 },
    );
  });

  test('off-hours-account at noon goes back to the same night', () => {
    const [event] = buildScenarioEvents('off-hours-account', { now: NOW, random: seededRandom(3) });
    assert.equal(event!.timestamp.slice(0, 10), '2026-06-10');
  });

  test('bad options are typed errors', () => {
    assert.throws(() => buildScenarioEvents('brute-force', { now: new Date(Number.NaN) }), {
      code: 'AF_SCENARIO_OPTION_INVALID',
    });
    assert.throws(() => buildScenarioEvents('brute-force', { user: '  ' }), { code: 'AF_SCENARIO_OPTION_INVALID' });
  });
});
