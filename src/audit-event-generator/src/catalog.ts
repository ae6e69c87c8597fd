/**
 * The simulated estate: the original generator's users and hosts (section 1.2
 * of the reference) plus the address pools and the extra resources that let
 * the analysis rules fire from the background stream, not only from scenarios.
 */

/** Users of the original generator, in its order. */
export const USERS = ['devops_admin', 'app_user', 'guest_user', 'monitoring_agent', 'attacker_bob'] as const;

/** Hosts of the original generator, in its order. */
export const HOSTS = ['prod-web-01', 'prod-db-02', 'dev-api-03', 'test-worker-04'] as const;

/**
 * Users the default rule set lets run sudo (ANLY-SEC-005). Scenarios that must
 * trigger that rule never pick one of them.
 */
export const SUDO_ALLOWLIST: readonly string[] = ['devops_admin', 'monitoring_agent'];

/** Files whose modification ANLY-SEC-002 reports; matched exactly, never as substrings. */
export const SENSITIVE_FILES = ['/etc/sudoers', '/root/.ssh/authorized_keys', '/etc/shadow', '/etc/passwd'] as const;

/** Services whose loss blinds the audit trail (ANLY-SEC-006). */
export const SECURITY_SERVICES = ['auditd.service', 'fail2ban.service'] as const;

/**
 * Account names a password-spraying tool tries: default and service
 * accounts. The original has only five users and spraying needs six distinct
 * ones; leaving the original users out also keeps a spray from adding to a
 * background brute-force window of theirs.
 */
export const SPRAY_TARGETS = [
  'admin',
  'root',
  'ubuntu',
  'pi',
  'postgres',
  'jenkins',
  'oracle',
  'test',
  'deploy',
] as const;

/** First and last host part of the original's LAN pool, 192.168.1.100–200. */
export const LAN_PREFIX = '192.168.1.';
export const LAN_FIRST = 100;
export const LAN_LAST = 200;

/**
 * A few outside addresses attackers come from. They are taken from the
 * documentation ranges of RFC 5737, so a demo can never point at a real host.
 */
export const EXTERNAL_ADDRESSES = [
  '203.0.113.17',
  '203.0.113.45',
  '203.0.113.201',
  '198.51.100.23',
  '198.51.100.77',
  '192.0.2.150',
] as const;

/** UTC hours [start, end) the simulated organisation works. */
export const WORKING_HOURS_UTC = { start: 8, end: 18 } as const;

/** Event types and action results the templates produce: the bounded sets of the metric labels. */
export const KNOWN_EVENT_TYPES: readonly string[] = [
  'user_login',
  'sudo_command',
  'file_modified',
  'service_status_change',
  'user_account_management',
];
export const KNOWN_ACTION_RESULTS: readonly string[] = ['FAILURE', 'SUCCESS', 'MODIFIED', 'STARTED', 'STOPPED', 'CREATED'];
export const KNOWN_HOSTS: readonly string[] = HOSTS;

/** source_service of the three producers inside the generator. */
export const SOURCE_SERVICES = {
  loop: 'audit-event-generator',
  api: 'audit-event-generator-api',
  scenario: 'audit-event-generator-scenario',
} as const;

/**
 * The provenance block of every event the generator makes up: `kind: synthetic`
 * lets analysis, the store, outputs and the dashboard tell the demo stream from
 * real records. `program` says which part made it (loop, scenario, generate_event).
 */
export function syntheticSource(program: 'loop' | 'scenario' | 'generate_event'): {
  kind: 'synthetic';
  host: string;
  program: string;
} {
  return { kind: 'synthetic', host: SOURCE_SERVICES.loop, program };
}
