import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '@auditflow/common';
import { EventClock, EventContext } from '../src/rules/event-context.ts';

export const T0 = Date.parse('2026-03-02T10:00:00.000Z');

/** A valid audit event in the generator's shape; override any field. */
export function makeEvent(overrides: Partial<AuditEvent> & { at?: number } = {}): AuditEvent {
  const { at, ...rest } = overrides;
  return {
    event_id: randomUUID(),
    timestamp: new Date(at ?? T0).toISOString(),
    source_service: 'audit-event-generator',
    server_hostname: 'prod-web-01',
    event_type: 'user_login',
    severity: 'WARNING',
    user_id: 'app_user',
    action_result: 'FAILURE',
    details: { reason: 'Incorrect password', ip_address: '192.168.1.150', protocol: 'ssh' },
    ...rest,
  } as AuditEvent;
}

export function contextOf(event: AuditEvent, timeZone = 'UTC'): EventContext {
  return new EventContext(event, Date.parse(event.timestamp), new EventClock(timeZone));
}

export const failedLogin = (user: string, host: string, at: number, ip = '192.168.1.150') =>
  makeEvent({ user_id: user, server_hostname: host, at, details: { reason: 'Incorrect password', ip_address: ip, protocol: 'ssh' } });

export const successfulLogin = (user: string, host: string, at: number, ip = '192.168.1.150') =>
  makeEvent({ user_id: user, server_hostname: host, at, severity: 'INFO', action_result: 'SUCCESS', details: { ip_address: ip, protocol: 'ssh' } });
