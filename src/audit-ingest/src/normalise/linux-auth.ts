import { ignored, type MapOutcome, mapped } from './mapped-record.ts';

/** A log line of a Linux program, whatever transport brought it (syslog or journald). */
export interface ProgramLine {
  /** syslog APP-NAME / journald SYSLOG_IDENTIFIER, e.g. `sshd`, `sudo`, `useradd`. */
  program: string | undefined;
  message: string;
}

const IPV4_OR_6 = String.raw`([0-9A-Fa-f:.]+(?:%[\w.-]+)?)`;
// User names may contain spaces (`Invalid user  0101 from ...`), so they are matched lazily up to ` from <address>`.
// The port is missing from IPv6 lines of some builds and from older OpenSSH; `[preauth]` ends pre-authentication lines.
const SSH_ATTEMPT = new RegExp(
  String.raw`^(Accepted|Failed) (password|publickey|keyboard-interactive/pam|keyboard-interactive|hostbased|none|gssapi-with-mic) for (invalid user )?(.*?) from ${IPV4_OR_6}(?: port (\d+))?(?: (ssh2))?(?:: (.*?))?(?: \[preauth\])?$`,
);
const SSH_INVALID_USER = new RegExp(String.raw`^[Ii]nvalid user (.*?) from ${IPV4_OR_6}(?: port (\d+))?(?: \[preauth\])?$`);
/** auth.c's allowed_user(): AllowUsers/DenyUsers/AllowGroups/DenyGroups, a locked account or a missing shell. */
const SSH_NOT_ALLOWED = new RegExp(`^User (.*?)(?: from ${IPV4_OR_6})? not allowed because (.+)$`);
/** MaxAuthTries reached: OpenSSH 7.4+ (`error: maximum authentication attempts exceeded ...`, `Disconnecting authenticating user ...`) and older (`Disconnecting: Too many ...`). */
const SSH_MAX_TRIES = [
  new RegExp(String.raw`^(?:error: )?maximum authentication attempts exceeded for (invalid user )?(.*?) from ${IPV4_OR_6}(?: port (\d+))?(?: ssh2)?(?: \[preauth\])?$`),
  new RegExp(String.raw`^Disconnecting (authenticating|invalid) user (.*?) ${IPV4_OR_6} port (\d+): Too many authentication failures(?: \[preauth\])?$`),
  /^Disconnecting: Too many authentication failures(?: for (invalid user )?(.*?))?(?: \[preauth\])?$/,
];
/** rsyslog's `$RepeatedMsgReduction` and journald-forwarders fold identical lines into one. */
const REPEATED = /^message repeated (\d+) times: \[ ?(.*)\]$/;
/** Guards against a forged count turning one line into a flood of events. */
export const MAX_REPEAT = 1000;
const SUDO_LINE = /^\s*(\S+) : (.*)$/;
const SYSTEMD_UNIT = /^(Started|Stopped|Reloaded) (\S+\.(?:service|socket|timer|mount|target|path))(?: - (.*?))?\.?$/;
/** systemd before 249 names only the unit's Description: `Stopped System Logging Service.` */
const SYSTEMD_DESCRIPTION = /^(Started|Stopped|Reloaded) (?!target )(.+)\.$/;
const SYSTEMD_FAILED = /^(\S+\.(?:service|socket|timer|mount)): Failed with result '([^']+)'\.$/;
const AUDIT_RECORD = /^(?:node=\S+ )?type=([A-Z_0-9]+) msg=audit\((\d+)\.(\d+):(\d+)\): ?(.*)$/;

/**
 * Maps the authentication and account messages that Debian (and Raspberry Pi
 * OS) programs write, in their real wording, to event fields the rules use.
 * Messages that restate another line (PAM summaries, "Connection closed",
 * "session opened") are ignored so one login attempt is one event.
 */
export function mapProgramLine(line: ProgramLine): MapOutcome {
  const repeated = REPEATED.exec(line.message);
  if (repeated) {
    const count = Number(repeated[1]);
    if (!Number.isSafeInteger(count) || count < 1) return ignored('repeat line with an unusable count');
    const inner = mapProgramLine({ program: line.program, message: repeated[2]! });
    if (inner.kind !== 'event') return inner;
    return mapped({ ...inner.record, occurrences: Math.min(count, MAX_REPEAT), details: { ...inner.record.details, repeated: count } });
  }
  const outcome = mapLine(line);
  if (outcome.kind !== 'event') return outcome;
  // The program's own words, for Sigma keyword rules (the source block keeps the whole record).
  return mapped({ ...outcome.record, details: { ...outcome.record.details, message: line.message.slice(0, 2048) } });
}

function mapLine(line: ProgramLine): MapOutcome {
  const program = normaliseProgram(line.program);
  const message = line.message;
  switch (program) {
    case 'sshd':
      return mapSshd(message);
    case 'sudo':
      return mapSudo(message);
    case 'useradd':
    case 'usermod':
    case 'userdel':
    case 'groupadd':
    case 'groupmod':
    case 'groupdel':
    case 'gpasswd':
    case 'adduser':
    case 'deluser':
      return mapAccount(program, message);
    case 'su':
      return mapSu(message);
    case 'systemd':
      return mapSystemd(message);
    case 'auditd':
    case 'audit':
    case 'audisp-syslog':
    case 'kernel':
      return AUDIT_RECORD.test(message) ? mapAuditd(message) : ignored(`${program} message without an audit record`);
    default:
      if (AUDIT_RECORD.test(message)) return mapAuditd(message);
      return ignored(`no mapping for program ${program || '(none)'}`);
  }
}

/** `sshd-session` (OpenSSH 9.8+) writes what `sshd` used to; `systemd[1]` is the manager itself. */
function normaliseProgram(program: string | undefined): string {
  if (program === undefined) return '';
  if (program === 'sshd-session' || program === 'sshd-auth') return 'sshd';
  return program;
}

/** sshd turning a named user away before any authentication: user and address are groups 1 and 2 of each pattern. */
const SSH_REFUSALS: readonly {
  pattern: RegExp;
  event_type: string;
  action_result: 'FAILURE' | 'DENIED';
  port?: (match: RegExpExecArray) => string | undefined;
  reason: (match: RegExpExecArray) => string;
}[] = [
  { pattern: SSH_INVALID_USER, event_type: 'ssh_invalid_user', action_result: 'FAILURE', port: (match) => match[3], reason: () => 'invalid user' },
  { pattern: SSH_NOT_ALLOWED, event_type: 'ssh_user_refused', action_result: 'DENIED', reason: (match) => match[3]!.slice(0, 512) },
];

function mapSshd(message: string): MapOutcome {
  const attempt = SSH_ATTEMPT.exec(message);
  if (attempt) {
    const [, verdict, method, invalid, user, ip, port, protocol, key] = attempt;
    const success = verdict === 'Accepted';
    const details: Record<string, unknown> = {
      ip_address: ip,
      ...(port ? { port: Number(port) } : {}),
      protocol: protocol ?? 'ssh',
      auth_method: method,
      resource: 'sshd',
    };
    if (invalid) details['invalid_user'] = true;
    if (key) details['key'] = key.slice(0, 256);
    if (!success) details['reason'] = invalid ? 'invalid user' : `${method} rejected`;
    return mapped({
      event_type: 'ssh_login',
      action_result: success ? 'SUCCESS' : 'FAILURE',
      user_id: userName(user),
      severity: success ? 'INFO' : 'WARNING',
      details,
    });
  }
  for (const refusal of SSH_REFUSALS) {
    const match = refusal.pattern.exec(message);
    if (!match) continue;
    const [, user, ip] = match;
    const port = refusal.port?.(match);
    return mapped({
      event_type: refusal.event_type,
      action_result: refusal.action_result,
      user_id: userName(user),
      severity: 'WARNING',
      details: { ...(ip ? { ip_address: ip } : {}), ...(port ? { port: Number(port) } : {}), protocol: 'ssh', reason: refusal.reason(match), resource: 'sshd' },
    });
  }
  const [modern, disconnect, legacy] = SSH_MAX_TRIES.map((pattern) => pattern.exec(message));
  if (modern || disconnect || legacy) {
    const match = (modern ?? disconnect ?? legacy)!;
    const invalidUser = disconnect ? disconnect[1] === 'invalid' : match[1] !== undefined;
    const [user, ip, port] = [match[2], match[3], match[4]];
    return mapped({
      event_type: 'ssh_max_auth_tries',
      action_result: 'FAILURE',
      user_id: userName(user),
      severity: 'WARNING',
      details: {
        ...(ip ? { ip_address: ip } : {}),
        ...(port ? { port: Number(port) } : {}),
        ...(invalidUser ? { invalid_user: true } : {}),
        protocol: 'ssh',
        reason: 'too many authentication failures',
        resource: 'sshd',
      },
    });
  }
  return ignored('sshd message without an authentication verdict');
}

/** sshd writes an empty name as nothing; `user_id` must not be empty. */
function userName(user: string | undefined): string {
  return user === undefined || user === '' ? '(empty)' : user;
}

/**
 * sudo's log line: `user : [summary ;] TTY=.. ; PWD=.. ; USER=.. ; [ENV=.. ;] COMMAND=..`.
 * COMMAND is last and may itself contain ` ; `, so it is split off first.
 */
function mapSudo(message: string): MapOutcome {
  const line = SUDO_LINE.exec(message);
  if (!line) return ignored('sudo message that is not a command log line (PAM or session line)');
  const [, user, rest] = line as unknown as [string, string, string];
  const commandAt = rest.indexOf('COMMAND=');
  const command = commandAt >= 0 ? rest.slice(commandAt + 'COMMAND='.length) : undefined;
  const head = commandAt >= 0 ? rest.slice(0, commandAt) : rest;
  const fields: Record<string, string> = {};
  const notes: string[] = [];
  for (const part of head.split(' ; ')) {
    const trimmed = part.trim().replace(/;$/, '').trim();
    if (trimmed === '') continue;
    const eq = trimmed.indexOf('=');
    if (eq > 0 && /^[A-Z]+$/.test(trimmed.slice(0, eq))) fields[trimmed.slice(0, eq)] = trimmed.slice(eq + 1);
    else notes.push(trimmed);
  }
  if (command === undefined && fields['TTY'] === undefined) return ignored('sudo message that is not a command log line');
  const details: Record<string, unknown> = {
    ...(command !== undefined ? { command: command.slice(0, 4096) } : {}),
    target_user: fields['USER'] ?? 'root',
    ...(fields['TTY'] ? { tty: fields['TTY'] } : {}),
    ...(fields['PWD'] ? { cwd: fields['PWD'] } : {}),
    resource: 'sudo',
  };
  const note = notes.join('; ');
  let result = 'SUCCESS';
  const attempts = /(\d+) incorrect password attempts?/.exec(note);
  if (attempts) {
    result = 'FAILURE';
    details['attempts'] = Number(attempts[1]);
    details['reason'] = 'incorrect password';
  } else if (/NOT in sudoers|not allowed to run sudo|command not allowed|not allowed to execute/i.test(note)) {
    result = 'DENIED';
    details['reason'] = note.slice(0, 1024);
  } else if (note !== '') {
    // "a password is required", "no tty present and no askpass program specified", ...
    result = 'FAILURE';
    details['reason'] = note.slice(0, 1024);
  }
  return mapped({ event_type: 'sudo', action_result: result, user_id: user, severity: result === 'SUCCESS' ? 'INFO' : 'WARNING', details });
}

const ACCOUNT_PATTERNS: { pattern: RegExp; change: string; result: string; account?: number; group?: number }[] = [
  { pattern: /^new user: name=([^,\s]+)/, change: 'user_created', result: 'CREATED', account: 1 },
  { pattern: /^new group: name=([^,\s]+)/, change: 'group_created', result: 'CREATED', group: 1 },
  { pattern: /^add '([^']+)' to group '([^']+)'$/, change: 'group_member_added', result: 'MODIFIED', account: 1, group: 2 },
  { pattern: /^user (\S+) added by \S+ to group (\S+)$/, change: 'group_member_added', result: 'MODIFIED', account: 1, group: 2 },
  { pattern: /^delete '([^']+)' from group '([^']+)'$/, change: 'group_member_removed', result: 'MODIFIED', account: 1, group: 2 },
  { pattern: /^user (\S+) removed by \S+ from group (\S+)$/, change: 'group_member_removed', result: 'MODIFIED', account: 1, group: 2 },
  { pattern: /^delete user '([^']+)'$/, change: 'user_deleted', result: 'DELETED', account: 1 },
  { pattern: /^removed group '([^']+)' owned by '[^']+'$/, change: 'group_deleted', result: 'DELETED', group: 1 },
  { pattern: /^group '([^']+)' removed$/, change: 'group_deleted', result: 'DELETED', group: 1 },
  { pattern: /^change user '([^']+)' (.+)$/, change: 'user_modified', result: 'MODIFIED', account: 1 },
  { pattern: /^(?:lock|unlock) user '([^']+)' password$/, change: 'user_modified', result: 'MODIFIED', account: 1 },
];

/**
 * shadow-utils' messages. Each change is written once for /etc/group and once
 * for /etc/gshadow ("shadow group"); only the first is an event.
 */
function mapAccount(program: string, message: string): MapOutcome {
  for (const { pattern, change, result, account, group } of ACCOUNT_PATTERNS) {
    const match = pattern.exec(message);
    if (!match) continue;
    const accountName = account ? match[account] : undefined;
    const groupName = group ? match[group] : undefined;
    return mapped({
      event_type: 'account_change',
      action_result: result,
      // The tools run as root and do not log who invoked them; the sudo line before them does.
      user_id: 'root',
      severity: change === 'group_member_added' && ['sudo', 'root', 'adm', 'wheel'].includes(groupName ?? '') ? 'CRITICAL' : 'WARNING',
      details: {
        change,
        resource: accountName ?? groupName,
        ...(accountName ? { account: accountName } : {}),
        ...(groupName ? { group: groupName } : {}),
        command: program,
      },
    });
  }
  return ignored(`${program} message without an account change`);
}

function mapSu(message: string): MapOutcome {
  const su = /^(FAILED SU )?\(to ([^)]+)\) (\S+) on (\S+)$/.exec(message);
  if (!su) return ignored('su message without a switch');
  const [, failed, target, user, tty] = su;
  return mapped({
    event_type: 'su',
    action_result: failed ? 'FAILURE' : 'SUCCESS',
    user_id: user!,
    severity: failed ? 'WARNING' : 'INFO',
    details: { target_user: target, tty, resource: 'su' },
  });
}

function mapSystemd(message: string): MapOutcome {
  const unit = SYSTEMD_UNIT.exec(message);
  if (unit) {
    const [, verb, name, description] = unit;
    const result = verb === 'Started' ? 'STARTED' : verb === 'Stopped' ? 'STOPPED' : 'RELOADED';
    return mapped({
      event_type: 'service_status_change',
      action_result: result,
      user_id: 'systemd',
      severity: result === 'STOPPED' ? 'WARNING' : 'INFO',
      details: { resource: name, ...(description ? { description } : {}) },
    });
  }
  const failed = SYSTEMD_FAILED.exec(message);
  if (failed) {
    return mapped({
      event_type: 'service_status_change',
      action_result: 'FAILED',
      user_id: 'systemd',
      severity: 'WARNING',
      details: { resource: failed[1], reason: failed[2] },
    });
  }
  const described = SYSTEMD_DESCRIPTION.exec(message);
  if (described && !described[2]!.includes('...')) {
    const [, verb, description] = described;
    const result = verb === 'Started' ? 'STARTED' : verb === 'Stopped' ? 'STOPPED' : 'RELOADED';
    return mapped({
      event_type: 'service_status_change',
      action_result: result,
      user_id: 'systemd',
      severity: result === 'STOPPED' ? 'WARNING' : 'INFO',
      // Only the Description is known; it stands in for the unit name.
      details: { resource: description, description },
    });
  }
  return ignored('systemd message without a unit state change');
}

/** Values of an audit record: `key=value`, `key="quoted"`, and the nested `msg='...'` of user-space records. */
function auditFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  const pattern = /(\w+)=(?:"([^"]*)"|'([^']*)'|(\S+))/g;
  for (const match of text.matchAll(pattern)) {
    const [, key, quoted, nested, bare] = match;
    if (nested !== undefined) Object.assign(fields, auditFields(nested));
    else fields[key!] ??= quoted ?? bare ?? '';
  }
  return fields;
}

const UNSET_AUID = '4294967295';

/** One auditd record as the syslog plugin writes it: `type=USER_AUTH msg=audit(1733140000.123:456): ...`. */
function mapAuditd(message: string): MapOutcome {
  const record = AUDIT_RECORD.exec(message)!;
  const [, type, seconds, millis, serial, body] = record as unknown as [string, string, string, string, string, string];
  const fields = auditFields(body);
  const res = fields['res'] ?? fields['success'];
  const result = res === 'success' || res === 'yes' ? 'SUCCESS' : res === 'failed' || res === 'no' ? 'FAILURE' : 'LOGGED';
  const auid = fields['auid'];
  const user = fields['acct'] ?? fields['AUID'] ?? (auid && auid !== UNSET_AUID ? `uid:${auid}` : fields['uid'] ? `uid:${fields['uid']}` : 'unknown');
  const address = fields['addr'] && fields['addr'] !== '?' ? fields['addr'] : undefined;
  return mapped({
    event_type: 'auditd',
    action_result: result,
    user_id: user,
    severity: result === 'FAILURE' ? 'WARNING' : 'INFO',
    timestampMs: Number(seconds) * 1000 + Number(millis.padEnd(3, '0').slice(0, 3)),
    details: {
      record_type: type,
      audit_serial: Number(serial),
      ...(fields['op'] ? { operation: fields['op'] } : {}),
      ...(fields['exe'] ? { resource: fields['exe'] } : {}),
      ...(address ? { ip_address: address } : {}),
      ...(fields['terminal'] ? { tty: fields['terminal'] } : {}),
      ...(fields['key'] && fields['key'] !== '(null)' ? { audit_key: fields['key'] } : {}),
    },
  });
}
