import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  alertSchema,
  assertAlert,
  assertAuditEvent,
  auditEventSchema,
  eventClientIp,
  eventResource,
  ValidationError,
} from '../src/index.ts';

const event = {
  event_id: '3f0c2b7e-1d2a-4c3b-9e8f-0a1b2c3d4e5f',
  timestamp: '2025-07-02T20:00:01.123456Z',
  source_service: 'audit-event-generator',
  server_hostname: 'prod-db-02',
  event_type: 'user_login',
  severity: 'WARNING',
  user_id: 'attacker_bob',
  action_result: 'FAILURE',
  details: { reason: 'Incorrect password', ip_address: '192.168.1.142', protocol: 'ssh' },
};

test('the committed JSON Schema files are exactly the TypeScript source of truth', () => {
  const eventFile = JSON.parse(readFileSync(new URL('../schemas/audit-event.schema.json', import.meta.url), 'utf8'));
  const alertFile = JSON.parse(readFileSync(new URL('../schemas/alert.schema.json', import.meta.url), 'utf8'));
  assert.deepEqual(eventFile, JSON.parse(JSON.stringify(auditEventSchema)), 'run scripts/export-schemas.ts');
  assert.deepEqual(alertFile, JSON.parse(JSON.stringify(alertSchema)), 'run scripts/export-schemas.ts');
});

test('an event of the original generator validates unchanged (wire compatibility)', () => {
  assert.deepEqual(assertAuditEvent(structuredClone(event)), event);
});

test('a missing field, a wrong type and a bad timestamp are each named', () => {
  const { user_id: _dropped, ...missing } = event;
  assert.throws(() => assertAuditEvent(missing), (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.equal(error.code, 'AF_VALIDATION_FAILED');
    assert.match(error.message, /user_id/);
    return true;
  });
  assert.throws(() => assertAuditEvent({ ...event, details: 'nope' }), /\/details/);
  assert.throws(() => assertAuditEvent({ ...event, timestamp: 'yesterday' }), /\/timestamp/);
  assert.throws(() => assertAuditEvent({ ...event, event_id: 'not-a-uuid' }), /\/event_id/);
});

test('the file path and client address are read from details, with the legacy top-level form as fallback', () => {
  const parsed = assertAuditEvent({ ...event, details: { resource: '/etc/shadow', ip_address: '10.0.0.9' } });
  assert.equal(eventResource(parsed), '/etc/shadow');
  assert.equal(eventClientIp(parsed), '10.0.0.9');
  const legacy = assertAuditEvent({ ...event, details: {}, resource: '/etc/passwd', client_ip: '10.0.0.7' });
  assert.equal(eventResource(legacy), '/etc/passwd');
  assert.equal(eventClientIp(legacy), '10.0.0.7');
});

test('an alert in the original shape validates; an over-long column value does not', () => {
  const alert = {
    alert_id: '7d1f6f1e-8c1b-5d3a-9b2e-1f2a3b4c5d6e',
    timestamp: '2025-07-02T20:00:00.000Z',
    alert_name: 'Multiple Failed Login Attempts',
    alert_type: 'SECURITY',
    severity: 'CRITICAL',
    description: "3 or more failed login attempts for user 'bob' on 'web' within 60 seconds.",
    source_service_name: 'audit-event-generator',
    analysis_rule: { rule_id: 'ANLY-SEC-001', rule_name: 'Failed Login Burst Detection', rule_description: 'x' },
    triggered_by: { actor_type: 'USER', actor_id: 'bob', client_ip: 'N/A' },
    impacted_resource: { resource_type: 'SERVER', resource_id: 'web', server_hostname: 'web' },
    action_observed: 'LOGIN_FAILURE',
    correlation_id: event.event_id,
    raw_event_data: event,
    metadata: { tags: ['brute-force'], environment: 'DEVELOPMENT' },
  };
  assert.equal(assertAlert(structuredClone(alert)).alert_id, alert.alert_id);
  assert.throws(() => assertAlert({ ...alert, alert_type: 'X'.repeat(51) }), /\/alert_type/);
  assert.throws(() => assertAlert({ ...alert, timestamp: '2025-07-02T20:00:00+00:00Z' }), /\/timestamp/);
});
