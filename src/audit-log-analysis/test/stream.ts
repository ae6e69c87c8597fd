import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '@auditflow/common';
import { failedLogin, makeEvent, successfulLogin } from './fixtures.ts';

const S = 1000;

/**
 * A known stream for the crash and replica tests: bursts for ANLY-SEC-001,
 * bursts followed by a success for ANLY-SEC-004 (burst events share one
 * timestamp, so the chained stage time cannot depend on processing order),
 * sprays for ANLY-SEC-003, repeated sensitive-file edits for ANLY-SEC-002,
 * off-hours accounts for ANLY-SEC-007, and noise no rule matches, interleaved.
 */
export function buildStream(options: { groups?: number; noise?: number } = {}): AuditEvent[] {
  const run = randomUUID().slice(0, 8);
  const base = Date.parse('2026-03-03T10:00:00Z');
  const groups = options.groups ?? 30;
  const lanes: AuditEvent[][] = [];
  for (let g = 0; g < groups; g++) {
    const user = `u${g}-${run}`;
    const host = `host-${g % 4}`;
    const ip = `10.${g}.0.1`;
    const t = base + g * 1000 * S;
    lanes.push([0, 2, 4, 6, 8, 10].map((i) => failedLogin(user, host, t + i * S, ip)));
    if (g % 3 === 0) {
      const victim = `v${g}-${run}`;
      lanes.push([
        failedLogin(victim, host, t, ip),
        failedLogin(victim, host, t, ip),
        failedLogin(victim, host, t, ip),
        successfulLogin(victim, host, t + 120 * S, ip),
      ]);
    }
    if (g % 5 === 0) {
      const sprayIp = `172.16.${g}.9`;
      lanes.push([0, 1, 2, 3, 4, 5].map((i) => failedLogin(`s${i}-${g}-${run}`, `spray-host-${i}`, t + i * 5 * S, sprayIp)));
    }
    if (g % 4 === 0) {
      lanes.push(
        [0, 30, 60].map((i) =>
          makeEvent({ at: t + i * S, user_id: user, server_hostname: `files-${g}-${run}`, event_type: 'file_modified', severity: 'CRITICAL', action_result: 'MODIFIED', details: { resource: '/etc/passwd' } } as never),
        ),
      );
    }
    if (g % 6 === 0) {
      lanes.push([
        makeEvent({ timestamp: `2026-03-03T03:${String(g % 60).padStart(2, '0')}:00Z`, user_id: user, server_hostname: `acct-${run}`, event_type: 'user_account_management', action_result: 'CREATED', details: { resource: `new_user_${g}` } } as never),
      ]);
    }
  }
  const noise = options.noise ?? 0;
  const quiet: AuditEvent[] = [];
  for (let i = 0; i < noise; i++) {
    quiet.push(
      i % 2 === 0
        ? makeEvent({ at: base + i * 10, event_type: 'service_status_change', action_result: 'STARTED', details: { resource: 'nginx.service' } } as never)
        : makeEvent({ at: base + i * 10, event_type: 'sudo_command', action_result: 'SUCCESS', user_id: 'devops_admin', details: { command: '/usr/bin/sudo apt update' } } as never),
    );
  }
  lanes.push(quiet);
  // Round-robin over the lanes keeps each lane in order but interleaves them.
  const out: AuditEvent[] = [];
  for (let index = 0; out.length < lanes.reduce((n, lane) => n + lane.length, 0); index++) {
    for (const lane of lanes) {
      const event = lane[index];
      if (event) out.push(event);
    }
  }
  return out;
}
