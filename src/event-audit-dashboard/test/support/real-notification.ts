import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryBroker } from '@auditflow/common';
import {
  createPgliteSqlClient,
  loadNotificationConfig,
  openAlertStore,
  startNotificationService,
} from '@auditflow/notification-service';
import { silentLogger, uniqueName, waitFor } from '../../../common/test/support.ts';

/**
 * The real notification-service, in-process on PGlite in a temp dir, fed
 * through an in-memory broker exactly as the analysis service would feed it.
 */
export interface RealNotification {
  url: string;
  /** Publishes an alert and resolves once the API serves it. */
  publish(alert: Record<string, unknown>): Promise<void>;
  stop(): Promise<void>;
}

export async function startRealNotification(options: { token: string; env?: Record<string, string> }): Promise<RealNotification> {
  const dir = await mkdtemp(join(tmpdir(), 'af-dashboard-'));
  const broker = new MemoryBroker({ logger: silentLogger });
  const queue = uniqueName('alerts');
  const config = loadNotificationConfig({
    API_PORT: '0',
    API_HOST: '127.0.0.1',
    RABBITMQ_ALERT_QUEUE: queue,
    API_TOKENS: options.token,
    LOG_LEVEL: 'silent',
    ...options.env,
  });
  const store = await openAlertStore(await createPgliteSqlClient(dir), silentLogger);
  const handle = await startNotificationService({ config, logger: silentLogger, broker, store });
  const url = handle.urls['http']!;
  return {
    url,
    async publish(alert) {
      await broker.publish(queue, { body: alert, messageId: String(alert['alert_id']) });
      await waitFor(
        async () => ((await fetch(`${url}/alerts/${String(alert['alert_id'])}`)).ok ? true : undefined),
        10_000,
        `alert ${String(alert['alert_id'])} to be stored`,
      );
    },
    async stop() {
      await handle.stop();
      await broker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** An alert in the analysis service's wire shape (the contract in @auditflow/common). */
export function contractAlert(overrides: {
  severity?: string;
  name?: string;
  user?: string;
  host?: string;
  ruleId?: string;
  ruleName?: string;
  at?: Date;
  description?: string;
  rawEvent?: Record<string, unknown>;
  playbookUrl?: string;
}): Record<string, unknown> {
  const at = (overrides.at ?? new Date()).toISOString();
  const user = overrides.user ?? 'attacker_bob';
  const host = overrides.host ?? 'prod-db-02';
  return {
    alert_id: randomUUID(),
    correlation_id: randomUUID(),
    timestamp: at,
    alert_name: overrides.name ?? 'Multiple Failed Login Attempts',
    alert_type: 'SECURITY',
    severity: overrides.severity ?? 'CRITICAL',
    description: overrides.description ?? `3 or more failed login attempts for user '${user}' on '${host}' within 60 seconds.`,
    source_service_name: 'audit-event-generator',
    analysis_rule: {
      rule_id: overrides.ruleId ?? 'ANLY-SEC-001',
      rule_name: overrides.ruleName ?? 'Failed Login Burst Detection',
      rule_description: 'Detects 3 failed logins within 60 seconds.',
    },
    triggered_by: { actor_type: 'USER', actor_id: user, client_ip: '192.168.1.142' },
    impacted_resource: { resource_type: 'SERVER', resource_id: host, server_hostname: host },
    action_observed: 'LOGIN_FAILURE',
    raw_event_data: overrides.rawEvent ?? {
      event_id: randomUUID(),
      timestamp: at,
      event_type: 'user_login',
      user_id: user,
      server_hostname: host,
      action_result: 'FAILURE',
      details: { reason: 'Incorrect password', ip_address: '192.168.1.142', protocol: 'ssh' },
    },
    metadata: {
      tags: ['brute-force', 'authentication'],
      environment: 'test',
      remediation_guidance: 'Check the account and its source addresses; consider locking it.',
      playbook_url: overrides.playbookUrl ?? 'https://example.com/playbooks/failed_login_burst',
    },
    count: 3,
    first_seen: at,
    last_seen: at,
  };
}
