import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertAuditEvent, UUID_PATTERN } from '@auditflow/common';
import {
  EXTERNAL_ADDRESSES,
  generateEvent,
  HOSTS,
  SECURITY_SERVICES,
  seededRandom,
  SOURCE_SERVICES,
  TEMPLATE_NAMES,
  TEMPLATES,
  type TemplateName,
  USERS,
} from '../src/index.ts';

const FIXED_NOW = Date.parse('2026-03-04T10:11:12.345Z');
const clock = () => FIXED_NOW;

/** The original's seven templates (section 1.2 of the reference): type, severity, result and details keys. */
const EXPECTED: Record<TemplateName, { event_type: string; severity: string; action_result: string; keys: string[] }> = {
  login_failure: { event_type: 'user_login', severity: 'WARNING', action_result: 'FAILURE', keys: ['ip_address', 'protocol', 'reason'] },
  login_success: { event_type: 'user_login', severity: 'INFO', action_result: 'SUCCESS', keys: ['ip_address', 'protocol'] },
  sudo_command: { event_type: 'sudo_command', severity: 'INFO', action_result: 'SUCCESS', keys: ['command', 'cwd', 'tty'] },
  file_modified: {
    event_type: 'file_modified',
    severity: 'CRITICAL',
    action_result: 'MODIFIED',
    keys: ['new_checksum', 'old_checksum', 'resource', 'size_change_bytes'],
  },
  service_started: {
    event_type: 'service_status_change',
    severity: 'INFO',
    action_result: 'STARTED',
    keys: ['message', 'previous_state', 'resource'],
  },
  service_stopped: {
    event_type: 'service_status_change',
    severity: 'WARNING',
    action_result: 'STOPPED',
    keys: ['message', 'previous_state', 'resource'],
  },
  account_created: {
    event_type: 'user_account_management',
    severity: 'INFO',
    action_result: 'CREATED',
    keys: ['group', 'home_directory', 'resource'],
  },
};

describe('event templates', () => {
  test('there are exactly the original seven templates', () => {
    assert.deepEqual([...TEMPLATE_NAMES].sort(), Object.keys(EXPECTED).sort());
    assert.equal(TEMPLATES.length, 7);
  });

  for (const name of Object.keys(EXPECTED) as TemplateName[]) {
    test(`${name}: shape matches the original and validates against the schema`, () => {
      const random = seededRandom(name.length * 7919);
      for (let i = 0; i < 200; i++) {
        const event = generateEvent(name, { clock, random });
        assertAuditEvent(event);
        const expected = EXPECTED[name];
        assert.equal(event.event_type, expected.event_type);
        assert.equal(event.severity, expected.severity);
        assert.equal(event.action_result, expected.action_result);
        assert.deepEqual(Object.keys(event.details).sort(), expected.keys);
        assert.match(event.event_id, UUID_PATTERN);
        assert.equal(event.timestamp, '2026-03-04T10:11:12.345Z');
        assert.equal(event.source_service, SOURCE_SERVICES.loop);
        assert.ok((HOSTS as readonly string[]).includes(event.server_hostname));
        assert.ok((USERS as readonly string[]).includes(event.user_id));
        // Resource and ip_address live inside details, never at the top level.
        assert.equal('resource' in event, false);
        assert.equal('ip_address' in event, false);
        assert.equal('client_ip' in event, false);
      }
    });
  }

  test('login addresses come from the LAN pool or the external attacker pool', () => {
    const random = seededRandom(42);
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const event = generateEvent(i % 2 ? 'login_failure' : 'login_success', { clock, random });
      const ip = String(event.details.ip_address);
      const lan = /^192\.168\.1\.(\d+)$/.exec(ip);
      if (lan) {
        const host = Number(lan[1]);
        assert.ok(host >= 100 && host <= 200, `LAN address out of the original pool: ${ip}`);
        seen.add('lan');
      } else {
        assert.ok((EXTERNAL_ADDRESSES as readonly string[]).includes(ip), `unexpected address ${ip}`);
        assert.equal(event.details.protocol, 'ssh', 'nobody uses the console from outside');
        seen.add('external');
      }
    }
    assert.deepEqual([...seen].sort(), ['external', 'lan']);
  });

  test('the new account and its home directory share one suffix', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      const { details } = generateEvent('account_created', { clock, random });
      assert.match(String(details.resource), /^new_user_[0-9a-f]{6}$/);
      assert.equal(details.home_directory, `/home/${String(details.resource)}`);
      assert.ok(['users', 'devops', 'sudo'].includes(String(details.group)));
    }
  });

  test('stopped services include the security daemons, rarely', () => {
    const random = seededRandom(99);
    let security = 0;
    const runs = 5000;
    for (let i = 0; i < runs; i++) {
      const { details } = generateEvent('service_stopped', { clock, random });
      assert.equal(details.previous_state, 'RUNNING');
      if ((SECURITY_SERVICES as readonly string[]).includes(String(details.resource))) security++;
    }
    assert.ok(security > 0, 'auditd/fail2ban never stopped');
    assert.ok(security < runs * 0.15, `security services stop too often: ${security}/${runs}`);
  });

  test('file_modified keeps the original value ranges', () => {
    const random = seededRandom(5);
    for (let i = 0; i < 300; i++) {
      const { details } = generateEvent('file_modified', { clock, random });
      assert.match(String(details.old_checksum), /^[0-9a-f]{8}$/);
      assert.match(String(details.new_checksum), /^[0-9a-f]{8}$/);
      assert.ok(Number.isInteger(details.size_change_bytes));
      assert.ok(Math.abs(Number(details.size_change_bytes)) <= 1000);
    }
  });

  test('the random mix covers all seven templates, and options pin user, host and source', () => {
    const random = seededRandom(1);
    const kinds = new Set<string>();
    for (let i = 0; i < 700; i++) {
      const event = generateEvent(undefined, { clock, random, user: 'u1', host: 'h1', sourceService: 'x' });
      kinds.add(`${event.event_type}/${event.action_result}`);
      assert.equal(event.user_id, 'u1');
      assert.equal(event.server_hostname, 'h1');
      assert.equal(event.source_service, 'x');
    }
    assert.equal(kinds.size, 7);
  });

  test('an unknown template name is a typed error', () => {
    assert.throws(
      () => generateEvent('nope' as TemplateName),
      (error: unknown) => (error as { code?: string }).code === 'AF_UNKNOWN_TEMPLATE',
    );
  });

  test('timestamps come from the injected clock as ISO-8601 UTC', () => {
    const event = generateEvent('login_success', { clock: () => Date.UTC(2026, 0, 1, 0, 0, 0, 0) });
    assert.equal(event.timestamp, '2026-01-01T00:00:00.000Z');
  });
});
