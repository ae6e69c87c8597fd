import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '@auditflow/common';
import {
  EXTERNAL_ADDRESSES,
  HOSTS,
  SENSITIVE_FILES,
  SOURCE_SERVICES,
  SPRAY_TARGETS,
  SUDO_ALLOWLIST,
  syntheticSource,
  USERS,
} from './catalog.ts';
import { ScenarioOptionError, UnknownScenarioError } from './errors.ts';
import { offHoursInstant } from './off-hours.ts';
import { pick, pickDistinct, type Random, randomInt } from './random.ts';
import {
  accountCreatedDetails,
  type Details,
  fileModifiedDetails,
  withTopLevelResource,
  serviceStoppedDetails,
  TEMPLATES,
  type TemplateName,
} from './templates.ts';

/** An attack (or incident) the generator can stage, and the analysis rules it must trigger. */
export interface ScenarioDefinition {
  name: string;
  description: string;
  expectedRules: readonly string[];
}

export interface ScenarioOptions {
  /** The last event's timestamp; earlier events lead up to it. @default new Date() */
  now?: Date;
  /** Pin the targeted (or acting) user; tests use unique values to isolate runs. */
  user?: string;
  /** Pin the server_hostname. */
  host?: string;
  /** Pin the attacker's source address (details.ip_address of login events). */
  ip?: string;
  /** @default Math.random */
  random?: () => number;
}

export const SCENARIOS: readonly ScenarioDefinition[] = [
  {
    name: 'brute-force',
    description: 'Five failed logins for one user on one host from one address within about 10 seconds.',
    expectedRules: ['ANLY-SEC-001'],
  },
  {
    name: 'password-spraying',
    description: 'One address tries six different accounts once each within about a minute.',
    expectedRules: ['ANLY-SEC-003'],
  },
  {
    name: 'brute-force-then-success',
    description: 'Four failed logins, then a successful one, for the same user and host within about 30 seconds.',
    expectedRules: ['ANLY-SEC-001', 'ANLY-SEC-004'],
  },
  {
    name: 'sensitive-file-modified',
    description: 'A sensitive system file (/etc/shadow, /etc/sudoers, /etc/passwd or root\u2019s authorized_keys) is modified.',
    expectedRules: ['ANLY-SEC-002'],
  },
  {
    name: 'unexpected-sudo',
    description: 'A user outside the sudo allowlist (devops_admin, monitoring_agent) runs a sudo command.',
    expectedRules: ['ANLY-SEC-005'],
  },
  {
    name: 'audit-service-stopped',
    description: 'The audit daemon auditd.service stops.',
    expectedRules: ['ANLY-SEC-006'],
  },
  {
    name: 'off-hours-account',
    description: 'A user account is created outside 08:00\u201318:00 UTC.',
    expectedRules: ['ANLY-SEC-007'],
  },
];

export const SCENARIO_NAMES: readonly string[] = SCENARIOS.map((scenario) => scenario.name);

export function findScenario(name: string): ScenarioDefinition | undefined {
  return SCENARIOS.find((scenario) => scenario.name === name);
}

/** One event of a scenario before ids and the shared fields are stamped on. */
interface Step {
  at: Date;
  template: TemplateName;
  user: string;
  host: string;
  details: Details;
}

interface Context {
  now: Date;
  random: Random;
  options: ScenarioOptions;
}

type Builder = (context: Context) => Step[];

/** Users whose sudo use the default rules flag. */
const NON_ALLOWLISTED_USERS = USERS.filter((user) => !SUDO_ALLOWLIST.includes(user));

const SUSPICIOUS_SUDO = [
  '/bin/rm -rf /',
  '/usr/bin/useradd newuser',
  '/bin/cat /etc/shadow',
  '/usr/bin/passwd root',
  '/usr/bin/sudo -i',
] as const;

const BUILDERS: Record<string, Builder> = {
  'brute-force': (context) => {
    const user = context.options.user ?? pick(context.random, USERS);
    const host = context.options.host ?? pick(context.random, HOSTS);
    const ip = attackerAddress(context);
    // Four gaps of at most 2.4 s keep the burst inside 10 s.
    const times = timeline(context, 5, 1500, 2400);
    return times.map((at) => failedLogin(at, user, host, ip));
  },

  'password-spraying': (context) => {
    const ip = attackerAddress(context);
    const pinned = context.options.user;
    const others = SPRAY_TARGETS.filter((user) => user !== pinned);
    // Every account is tried exactly once, so no user+host pair reaches the brute-force threshold.
    const users = pinned === undefined ? pickDistinct(context.random, others, 6) : [pinned, ...pickDistinct(context.random, others, 5)];
    // Five gaps of at most 8 s: the whole spray lands within 40 s.
    const times = timeline(context, users.length, 3000, 8000);
    return users.map((user, index) =>
      failedLogin(times[index]!, user, context.options.host ?? pick(context.random, HOSTS), ip),
    );
  },

  'brute-force-then-success': (context) => {
    const user = context.options.user ?? pick(context.random, USERS);
    const host = context.options.host ?? pick(context.random, HOSTS);
    const ip = attackerAddress(context);
    // Four gaps of at most 6 s: the failures and the success fall within 24 s.
    const times = timeline(context, 5, 3000, 6000);
    const steps = times.slice(0, 4).map((at) => failedLogin(at, user, host, ip));
    steps.push({ at: times[4]!, template: 'login_success', user, host, details: { ip_address: ip, protocol: 'ssh' } });
    return steps;
  },

  'sensitive-file-modified': (context) => [
    {
      at: context.now,
      template: 'file_modified',
      user: context.options.user ?? pick(context.random, USERS),
      host: context.options.host ?? pick(context.random, HOSTS),
      details: fileModifiedDetails(context.random, pick(context.random, SENSITIVE_FILES)),
    },
  ],

  'unexpected-sudo': (context) => {
    const user = context.options.user ?? pick(context.random, NON_ALLOWLISTED_USERS);
    if (SUDO_ALLOWLIST.includes(user)) {
      throw new ScenarioOptionError(`user '${user}' is allowed to use sudo, so unexpected-sudo would not trigger`, {
        user,
        allowlist: SUDO_ALLOWLIST,
      });
    }
    return [
      {
        at: context.now,
        template: 'sudo_command',
        user,
        host: context.options.host ?? pick(context.random, HOSTS),
        details: { command: pick(context.random, SUSPICIOUS_SUDO), tty: '/dev/pts/0', cwd: `/home/${user}` },
      },
    ];
  },

  'audit-service-stopped': (context) => [
    {
      at: context.now,
      template: 'service_stopped',
      user: context.options.user ?? pick(context.random, USERS),
      host: context.options.host ?? pick(context.random, HOSTS),
      details: serviceStoppedDetails('auditd.service'),
    },
  ],

  'off-hours-account': (context) => [
    {
      at: offHoursInstant(context.now, context.random),
      template: 'account_created',
      user: context.options.user ?? pick(context.random, USERS),
      host: context.options.host ?? pick(context.random, HOSTS),
      details: accountCreatedDetails(context.random),
    },
  ],
};

/**
 * The events of one scenario, oldest first, the last one at `now`; every one
 * carries `scenario` and source_service `audit-event-generator-scenario`.
 * Throws UnknownScenarioError (AF_UNKNOWN_SCENARIO) for a name not in SCENARIOS.
 */
export function buildScenarioEvents(name: string, options: ScenarioOptions = {}): AuditEvent[] {
  const builder = Object.hasOwn(BUILDERS, name) ? BUILDERS[name] : undefined;
  if (builder === undefined) throw new UnknownScenarioError(name, SCENARIO_NAMES);
  const now = options.now ?? new Date();
  if (Number.isNaN(now.getTime())) throw new ScenarioOptionError('option now is not a valid date');
  for (const key of ['user', 'host', 'ip'] as const) {
    const value = options[key];
    if (value !== undefined && (typeof value !== 'string' || value.trim() === '' || value.length > 255)) {
      throw new ScenarioOptionError(`option ${key} must be a non-empty string of at most 255 characters`);
    }
  }
  const steps = builder({ now, random: options.random ?? Math.random, options });
  return steps.map((step) => toEvent(name, step));
}

function toEvent(scenario: string, step: Step): AuditEvent {
  const template = TEMPLATES.find((candidate) => candidate.name === step.template)!;
  return {
    event_id: randomUUID(),
    timestamp: step.at.toISOString(),
    source_service: SOURCE_SERVICES.scenario,
    server_hostname: step.host,
    event_type: template.event_type,
    severity: template.severity,
    user_id: step.user,
    action_result: template.action_result,
    ...withTopLevelResource(template.event_type, step.details),
    scenario,
    source: syntheticSource('scenario'),
  };
}

function failedLogin(at: Date, user: string, host: string, ip: string): Step {
  return { at, template: 'login_failure', user, host, details: { reason: 'Incorrect password', ip_address: ip, protocol: 'ssh' } };
}

function attackerAddress(context: Context): string {
  return context.options.ip ?? pick(context.random, EXTERNAL_ADDRESSES);
}

/**
 * `count` strictly increasing instants ending exactly at `now`, separated by
 * random gaps in [minGapMs, maxGapMs] so repeated runs do not look machine-made.
 */
function timeline(context: Context, count: number, minGapMs: number, maxGapMs: number): Date[] {
  const times = [context.now.getTime()];
  for (let i = 1; i < count; i++) times.unshift(times[0]! - randomInt(context.random, minGapMs, maxGapMs));
  return times.map((ms) => new Date(ms));
}
