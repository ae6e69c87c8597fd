import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '@auditflow/common';
import {
  EXTERNAL_ADDRESSES,
  HOSTS,
  LAN_FIRST,
  LAN_LAST,
  LAN_PREFIX,
  SECURITY_SERVICES,
  SOURCE_SERVICES,
  syntheticSource,
  USERS,
} from './catalog.ts';
import { UnknownTemplateError } from './errors.ts';
import { pick, pickWeighted, type Random, randomHex, randomInt, type Weighted } from './random.ts';

export type Details = AuditEvent['details'];

export interface TemplateContext {
  random: Random;
  user: string;
  host: string;
  /** Source address chosen by the caller (scenarios pin it); templates without an address ignore it. */
  ip: string | undefined;
}

/** One of the original generator's seven event shapes (section 1.2 of the reference). */
export interface EventTemplate {
  readonly name: TemplateName;
  readonly event_type: string;
  readonly severity: string;
  readonly action_result: string;
  /** Who plausibly produces this event; the original drew users uniformly, which made sudo by guests as common as by admins. */
  readonly users: Weighted<string>;
  details(context: TemplateContext): Details;
}

export type TemplateName =
  | 'login_failure'
  | 'login_success'
  | 'sudo_command'
  | 'file_modified'
  | 'service_started'
  | 'service_stopped'
  | 'account_created';

const EVERYONE: Weighted<string> = [
  ['devops_admin', 3],
  ['app_user', 2],
  ['monitoring_agent', 2],
  ['guest_user', 1],
  ['attacker_bob', 1],
];

const SUDO_COMMANDS = [
  '/usr/bin/sudo apt update',
  '/usr/bin/useradd newuser',
  '/bin/rm -rf /',
  '/bin/systemctl restart nginx',
] as const;

/** The original's five files, plus the two sensitive ones it never produced, rarely, so ANLY-SEC-002 fires now and then. */
const MODIFIED_FILES: Weighted<string> = [
  ['/etc/passwd', 1],
  ['/var/log/nginx/access.log', 4],
  ['/opt/app/config.json', 3],
  ['/root/.ssh/authorized_keys', 1],
  ['/var/www/html/index.php', 3],
  ['/etc/shadow', 0.3],
  ['/etc/sudoers', 0.3],
];

const APP_SERVICES = ['nginx.service', 'mysql.service', 'apache2.service'] as const;

/** Security daemons stop rarely; when they do, ANLY-SEC-006 should notice. */
const STOPPED_SERVICES: Weighted<string> = [
  ...APP_SERVICES.map((service) => [service, 3] as const),
  ...SECURITY_SERVICES.map((service) => [service, 0.25] as const),
];

/**
 * A source address for a login: the attacker mostly comes from outside,
 * everybody else from the office LAN of the original (192.168.1.100–200).
 */
export function sourceAddress(random: Random, user: string): string {
  const outsideShare = user === 'attacker_bob' ? 0.85 : 0.03;
  if (random() < outsideShare) return pick(random, EXTERNAL_ADDRESSES);
  return `${LAN_PREFIX}${randomInt(random, LAN_FIRST, LAN_LAST)}`;
}

function loginDetails(context: TemplateContext): { ip_address: string; protocol: string } {
  const ip = context.ip ?? sourceAddress(context.random, context.user);
  // Nobody sits at the console of a server from the internet.
  const protocol = ip.startsWith(LAN_PREFIX) ? pick(context.random, ['ssh', 'console'] as const) : 'ssh';
  return { ip_address: ip, protocol };
}

export const TEMPLATES: readonly EventTemplate[] = [
  {
    name: 'login_failure',
    event_type: 'user_login',
    severity: 'WARNING',
    action_result: 'FAILURE',
    users: [
      ['devops_admin', 1],
      ['app_user', 2],
      ['monitoring_agent', 1],
      ['guest_user', 2],
      ['attacker_bob', 3],
    ],
    details: (context) => {
      const { ip_address, protocol } = loginDetails(context);
      return { reason: 'Incorrect password', ip_address, protocol };
    },
  },
  {
    name: 'login_success',
    event_type: 'user_login',
    severity: 'INFO',
    action_result: 'SUCCESS',
    users: [
      ['devops_admin', 3],
      ['app_user', 3],
      ['monitoring_agent', 3],
      ['guest_user', 1],
      ['attacker_bob', 0.5],
    ],
    details: (context) => loginDetails(context),
  },
  {
    name: 'sudo_command',
    event_type: 'sudo_command',
    severity: 'INFO',
    action_result: 'SUCCESS',
    // Mostly the allowlisted operators, so ANLY-SEC-005 stays a signal rather than noise.
    users: [
      ['devops_admin', 6],
      ['monitoring_agent', 2],
      ['app_user', 0.5],
      ['guest_user', 0.25],
      ['attacker_bob', 0.25],
    ],
    details: (context) => ({
      command: pick(context.random, SUDO_COMMANDS),
      tty: '/dev/pts/0',
      cwd: `/home/${pick(context.random, USERS)}`,
    }),
  },
  {
    name: 'file_modified',
    event_type: 'file_modified',
    severity: 'CRITICAL',
    action_result: 'MODIFIED',
    users: EVERYONE,
    details: (context) => fileModifiedDetails(context.random, pickWeighted(context.random, MODIFIED_FILES)),
  },
  {
    name: 'service_started',
    event_type: 'service_status_change',
    severity: 'INFO',
    action_result: 'STARTED',
    users: EVERYONE,
    details: (context) => ({
      resource: pick(context.random, APP_SERVICES),
      previous_state: pick(context.random, ['STOPPED', 'FAILED'] as const),
      message: 'Service started successfully.',
    }),
  },
  {
    name: 'service_stopped',
    event_type: 'service_status_change',
    severity: 'WARNING',
    action_result: 'STOPPED',
    users: EVERYONE,
    details: (context) => serviceStoppedDetails(pickWeighted(context.random, STOPPED_SERVICES)),
  },
  {
    name: 'account_created',
    event_type: 'user_account_management',
    severity: 'INFO',
    action_result: 'CREATED',
    users: EVERYONE,
    details: (context) => accountCreatedDetails(context.random),
  },
];

export const TEMPLATE_NAMES: readonly TemplateName[] = TEMPLATES.map((template) => template.name);

export function fileModifiedDetails(random: Random, resource: string): Details {
  return {
    resource,
    old_checksum: randomHex(random, 8),
    new_checksum: randomHex(random, 8),
    size_change_bytes: randomInt(random, -1000, 1000),
  };
}

export function serviceStoppedDetails(resource: string): Details {
  return { resource, previous_state: 'RUNNING', message: 'Service stopped unexpectedly.' };
}

/** The account name and its home directory share one suffix (the original gave them different ones). */
export function accountCreatedDetails(random: Random): Details {
  const account = `new_user_${randomHex(random, 6)}`;
  return { resource: account, group: pick(random, ['users', 'devops', 'sudo'] as const), home_directory: `/home/${account}` };
}

export function findTemplate(name: string): EventTemplate | undefined {
  return TEMPLATES.find((template) => template.name === name);
}

export interface GenerateOptions {
  /** Milliseconds since the epoch. @default Date.now */
  clock?: () => number;
  /** @default Math.random */
  random?: Random;
  /** @default 'audit-event-generator' */
  sourceService?: string;
  /** Pin the actor instead of drawing one from the template's users. */
  user?: string;
  /** Pin the host instead of drawing one of the original's four. */
  host?: string;
  /** Pin the source address of login events. */
  ip?: string;
}

/**
 * One event from a template (a name or the template itself), or from one of
 * the seven drawn uniformly as the original did.
 */
export function generateEvent(template?: TemplateName | EventTemplate, options: GenerateOptions = {}): AuditEvent {
  const random = options.random ?? Math.random;
  const clock = options.clock ?? Date.now;
  const chosen = resolveTemplate(template, random);
  const user = options.user ?? pickWeighted(random, chosen.users);
  const host = options.host ?? pick(random, HOSTS);
  return {
    event_id: randomUUID(),
    // Always a real ISO-8601 UTC instant (the original wrote `+00:00Z`, two zone designators).
    timestamp: new Date(clock()).toISOString(),
    source_service: options.sourceService ?? SOURCE_SERVICES.loop,
    server_hostname: host,
    event_type: chosen.event_type,
    severity: chosen.severity,
    user_id: user,
    action_result: chosen.action_result,
    ...withTopLevelResource(chosen.event_type, chosen.details({ random, user, host, ip: options.ip })),
    source: syntheticSource('loop'),
  };
}

/**
 * The event's details, plus the path of a file event at the top level as well:
 * the original analysis reads `resource` only from there (reference section 3.3), so
 * without it a file event raises no ANLY-SEC-002 when the original consumes
 * it. The contract allows both; details.resource stays the primary place.
 */
export function withTopLevelResource(eventType: string, details: Details): { details: Details; resource?: string } {
  return eventType === 'file_modified' && typeof details.resource === 'string' ? { resource: details.resource, details } : { details };
}

function resolveTemplate(template: TemplateName | EventTemplate | undefined, random: Random): EventTemplate {
  if (template === undefined) return pick(random, TEMPLATES);
  if (typeof template !== 'string') return template;
  const found = findTemplate(template);
  if (!found) throw new UnknownTemplateError(template, TEMPLATE_NAMES);
  return found;
}
