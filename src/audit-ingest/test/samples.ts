/**
 * Realistic audit records, written for these tests in the exact wording of
 * the Debian 12 / Raspberry Pi OS programs (OpenSSH 9.2, sudo 1.9.13,
 * shadow-utils 4.13, util-linux su, systemd 252) and of the Kubernetes 1.31
 * API server's audit webhook, with the rules each one must raise.
 */

export interface LinuxLine {
  program: string;
  pid: number;
  message: string;
  /** Severity/facility as the program logs it: authpriv.info = 86, auth.notice = 37, daemon.info = 30. */
  pri: number;
}

/** One host's worth of lines: brute force, spraying, sudo, accounts, a stopped audit daemon, and benign lines. */
export function linuxLines(ip: { brute: string; spray: string; admin: string }): LinuxLine[] {
  const lines: LinuxLine[] = [];
  // Brute force: six wrong passwords for one account from one address (ANLY-SRC-003).
  for (let i = 0; i < 6; i++) {
    lines.push({ program: 'sshd', pid: 4100 + i, pri: 86, message: `Failed password for pi from ${ip.brute} port ${51000 + i} ssh2` });
  }
  // Spraying: five accounts that do not exist, each logged twice by sshd (ANLY-SRC-004).
  for (const [i, user] of ['admin', 'oracle', 'test', 'ubuntu', 'guest'].entries()) {
    lines.push({ program: 'sshd', pid: 4200 + i, pri: 86, message: `Invalid user ${user} from ${ip.spray} port ${40000 + i}` });
    lines.push({ program: 'sshd', pid: 4200 + i, pri: 86, message: `Failed password for invalid user ${user} from ${ip.spray} port ${40000 + i} ssh2` });
  }
  // Benign logins and their companions: no alert.
  lines.push({ program: 'sshd', pid: 4300, pri: 86, message: `Accepted publickey for ansible from ${ip.admin} port 50122 ssh2: ED25519 SHA256:Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5` });
  lines.push({ program: 'sshd', pid: 4300, pri: 86, message: 'pam_unix(sshd:session): session opened for user ansible(uid=1001) by (uid=0)' });
  lines.push({ program: 'sshd', pid: 4301, pri: 86, message: `Accepted password for alice from ${ip.admin} port 50123 ssh2` });
  lines.push({ program: 'sshd', pid: 4302, pri: 86, message: `Connection closed by authenticating user root ${ip.brute} port 51999 [preauth]` });
  // sudo: one allowed administrator, one user outside the allowlist, two refusals.
  lines.push({ program: 'sudo', pid: 5001, pri: 85, message: 'ansible : TTY=pts/0 ; PWD=/home/ansible ; USER=root ; COMMAND=/usr/bin/apt-get update' });
  lines.push({ program: 'sudo', pid: 5002, pri: 85, message: 'pam_unix(sudo:session): session opened for user root(uid=0) by ansible(uid=1001)' });
  lines.push({ program: 'sudo', pid: 5003, pri: 85, message: '   alice : TTY=pts/1 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow' });
  lines.push({ program: 'sudo', pid: 5004, pri: 85, message: 'pam_unix(sudo:auth): authentication failure; logname=bob uid=1003 euid=0 tty=/dev/pts/2 ruser=bob rhost=  user=bob' });
  lines.push({ program: 'sudo', pid: 5004, pri: 85, message: '     bob : 3 incorrect password attempts ; TTY=pts/2 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/su -' });
  lines.push({ program: 'sudo', pid: 5005, pri: 85, message: 'mallory : user NOT in sudoers ; TTY=pts/3 ; PWD=/home/mallory ; USER=root ; COMMAND=/bin/bash' });
  // Accounts: a new user with its group, then added to sudo (written twice by usermod), and a deletion.
  lines.push({ program: 'useradd', pid: 6001, pri: 86, message: 'new group: name=backdoor, GID=1005' });
  lines.push({ program: 'useradd', pid: 6001, pri: 86, message: 'new user: name=backdoor, UID=1005, GID=1005, home=/home/backdoor, shell=/bin/bash, from=/dev/pts/1' });
  lines.push({ program: 'usermod', pid: 6002, pri: 86, message: "add 'backdoor' to group 'sudo'" });
  lines.push({ program: 'usermod', pid: 6002, pri: 86, message: "add 'backdoor' to shadow group 'sudo'" });
  lines.push({ program: 'userdel', pid: 6003, pri: 86, message: "delete user 'olduser'" });
  lines.push({ program: 'userdel', pid: 6003, pri: 86, message: "removed group 'olduser' owned by 'olduser'" });
  // su and auditd are mapped but raise nothing here.
  lines.push({ program: 'su', pid: 6100, pri: 37, message: '(to root) alice on pts/1' });
  lines.push({
    program: 'audisp-syslog',
    pid: 6200,
    pri: 86,
    message: `type=USER_AUTH msg=audit(${Math.floor(Date.now() / 1000)}.123:812): pid=4100 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=PAM:authentication grantors=? acct="pi" exe="/usr/sbin/sshd" hostname=${ip.brute} addr=${ip.brute} terminal=ssh res=failed'`,
  });
  // The audit daemon stopped: the existing ANLY-SEC-006 rule, now from a real systemd line.
  lines.push({ program: 'systemd', pid: 1, pri: 30, message: 'Stopping auditd.service - Security Auditing Service...' });
  lines.push({ program: 'systemd', pid: 1, pri: 30, message: 'auditd.service: Deactivated successfully.' });
  lines.push({ program: 'systemd', pid: 1, pri: 30, message: 'Stopped auditd.service - Security Auditing Service.' });
  // A program with no mapping.
  lines.push({ program: 'CRON', pid: 7000, pri: 78, message: 'pam_unix(cron:session): session closed for user root' });
  return lines;
}

/** The alerts one host's lines must raise: `rule id|what tells them apart`. */
export function expectedLinuxAlerts(host: string, ip: { brute: string; spray: string }): string[] {
  return [
    `ANLY-SRC-003|${host}|${ip.brute}|pi`,
    `ANLY-SRC-004|${ip.spray}`,
    `ANLY-SRC-005|${host}|bob`,
    `ANLY-SRC-005|${host}|mallory`,
    `ANLY-SRC-006|${host}|alice`,
    `ANLY-SRC-007|${host}|user_created|backdoor`,
    `ANLY-SRC-007|${host}|group_member_added|backdoor|sudo`,
    `ANLY-SEC-006|${host}|auditd.service`,
  ].sort();
}

function pad(n: number): string {
  return String(n).padStart(2, ' ');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `<86>Dec  2 12:33:07 pi-a sshd[4100]: Failed password ...` (timestamps in UTC, as SYSLOG_TIMEZONE defaults to). */
export function rfc3164(line: LinuxLine, host: string, at: Date): string {
  const time = `${MONTHS[at.getUTCMonth()]} ${pad(at.getUTCDate())} ${at.toISOString().slice(11, 19)}`;
  return `<${line.pri}>${time} ${host} ${line.program}[${line.pid}]: ${line.message}`;
}

/** `<86>1 2026-12-02T12:33:07.123Z pi-b sshd 4100 - - Failed password ...` (RFC 5424, as rsyslog's RSYSLOG_SyslogProtocol23Format writes it). */
export function rfc5424(line: LinuxLine, host: string, at: Date): string {
  return `<${line.pri}>1 ${at.toISOString()} ${host} ${line.program} ${line.pid} - - ${line.message}`;
}

export function octetCounted(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}

let auditCounter = 0;

function auditEvent(fields: {
  user: string;
  groups?: string[];
  verb: string;
  uri: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  apiGroup?: string;
  code: number;
  ip?: string;
  requestObject?: unknown;
  stage?: string;
  at: Date;
}): Record<string, unknown> {
  auditCounter++;
  const id = `5e0f${String(auditCounter).padStart(4, '0')}-1c2d-4e5f-8a9b-${Date.now().toString(16).padStart(12, '0').slice(-12)}`;
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: fields.requestObject ? 'Request' : 'Metadata',
    auditID: id,
    stage: fields.stage ?? 'ResponseComplete',
    requestURI: fields.uri,
    verb: fields.verb,
    user: { username: fields.user, groups: fields.groups ?? ['system:authenticated'] },
    sourceIPs: [fields.ip ?? '192.168.1.50'],
    userAgent: 'kubectl/v1.31.4 (linux/arm64) kubernetes/3a2c1f5',
    ...(fields.resource
      ? {
          objectRef: {
            resource: fields.resource,
            ...(fields.namespace ? { namespace: fields.namespace } : {}),
            ...(fields.name ? { name: fields.name } : {}),
            ...(fields.apiGroup ? { apiGroup: fields.apiGroup } : {}),
            apiVersion: 'v1',
            ...(fields.subresource ? { subresource: fields.subresource } : {}),
          },
        }
      : {}),
    responseStatus: { metadata: {}, code: fields.code },
    ...(fields.requestObject ? { requestObject: fields.requestObject } : {}),
    requestReceivedTimestamp: new Date(fields.at.getTime() - 3).toISOString().replace('Z', '000Z'),
    stageTimestamp: fields.at.toISOString().replace('Z', '000Z'),
    annotations: { 'authorization.k8s.io/decision': fields.code === 403 ? 'forbid' : 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed by ClusterRoleBinding' },
  };
}

const pod = (name: string, extra: { privileged?: boolean; hostPath?: string }) => ({
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name },
  spec: {
    containers: [{ name: 'main', image: 'docker.io/library/busybox:1.37', ...(extra.privileged ? { securityContext: { privileged: true } } : {}) }],
    ...(extra.hostPath ? { volumes: [{ name: 'host', hostPath: { path: extra.hostPath, type: 'Directory' } }] } : {}),
  },
});

/** An EventList as the batch webhook posts it, and the alerts it must raise (`rule id|group`). */
export function auditEventList(at: Date, user: string): { body: Record<string, unknown>; expected: string[] } {
  const items = [
    // exec into a protected namespace (kubectl exec over websockets is a GET on pods/exec since 1.30) and into dev.
    auditEvent({ at, user, verb: 'get', uri: '/api/v1/namespaces/kube-system/pods/coredns-6799fbcd5-x2k4l/exec?command=sh&container=coredns&stdin=true&stdout=true&tty=true', resource: 'pods', subresource: 'exec', namespace: 'kube-system', name: 'coredns-6799fbcd5-x2k4l', code: 101 }),
    { ...auditEvent({ at, user, verb: 'create', uri: '/api/v1/namespaces/dev/pods/web-0/exec?command=sh', resource: 'pods', subresource: 'exec', namespace: 'dev', name: 'web-0', code: 101 }) },
    // Secrets read by a person, and by a controller's service account.
    auditEvent({ at, user, verb: 'get', uri: '/api/v1/namespaces/prod/secrets/postgres-credentials', resource: 'secrets', namespace: 'prod', name: 'postgres-credentials', code: 200 }),
    auditEvent({ at, user: 'system:serviceaccount:kube-system:helm-controller', groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'], verb: 'list', uri: '/api/v1/namespaces/prod/secrets?limit=500', resource: 'secrets', namespace: 'prod', code: 200 }),
    // A cluster-admin binding, and a harmless view binding.
    auditEvent({ at, user, verb: 'create', uri: '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', resource: 'clusterrolebindings', apiGroup: 'rbac.authorization.k8s.io', name: 'totally-normal', code: 201, requestObject: { kind: 'ClusterRoleBinding', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'totally-normal' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'eve', apiGroup: 'rbac.authorization.k8s.io' }] } }),
    auditEvent({ at, user, verb: 'create', uri: '/apis/rbac.authorization.k8s.io/v1/namespaces/dev/rolebindings', resource: 'rolebindings', apiGroup: 'rbac.authorization.k8s.io', namespace: 'dev', name: 'dev-view', code: 201, requestObject: { kind: 'RoleBinding', roleRef: { kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'Group', name: 'developers' }] } }),
    // Anonymous: allowed on a namespaced list (alert), allowed on /healthz and refused on secrets (no alert).
    auditEvent({ at, user: 'system:anonymous', groups: ['system:unauthenticated'], verb: 'list', uri: '/api/v1/namespaces/default/pods', resource: 'pods', namespace: 'default', code: 200, ip: '203.0.113.99' }),
    auditEvent({ at, user: 'system:anonymous', groups: ['system:unauthenticated'], verb: 'get', uri: '/healthz', code: 200, ip: '203.0.113.98' }),
    auditEvent({ at, user: 'system:anonymous', groups: ['system:unauthenticated'], verb: 'list', uri: '/api/v1/secrets', resource: 'secrets', code: 403, ip: '203.0.113.97' }),
    // Pods: privileged, hostPath, an ordinary one, and a privileged one in kube-system (allowed namespace).
    auditEvent({ at, user, verb: 'create', uri: '/api/v1/namespaces/dev/pods', resource: 'pods', namespace: 'dev', name: 'priv', code: 201, requestObject: pod('priv', { privileged: true }) }),
    auditEvent({ at, user, verb: 'create', uri: '/api/v1/namespaces/dev/pods', resource: 'pods', namespace: 'dev', name: 'hostfs', code: 201, requestObject: pod('hostfs', { hostPath: '/' }) }),
    auditEvent({ at, user, verb: 'create', uri: '/api/v1/namespaces/dev/pods', resource: 'pods', namespace: 'dev', name: 'plain', code: 201, requestObject: pod('plain', {}) }),
    auditEvent({ at, user: 'system:serviceaccount:kube-system:daemon-set-controller', verb: 'create', uri: '/api/v1/namespaces/kube-system/pods', resource: 'pods', namespace: 'kube-system', name: 'svclb-agent', code: 201, requestObject: pod('svclb-agent', { privileged: true }) }),
    // The first stage of a request is not an event (it would count the request twice).
    auditEvent({ at, user, verb: 'get', uri: '/api/v1/namespaces/prod/secrets/other', resource: 'secrets', namespace: 'prod', name: 'other', code: 200, stage: 'RequestReceived' }),
  ];
  return {
    body: { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items },
    expected: [
      `ANLY-SRC-010|${user}|kube-system|coredns-6799fbcd5-x2k4l`,
      `ANLY-SRC-011|${user}|prod`,
      'ANLY-SRC-012|clusterrolebindings/totally-normal',
      'ANLY-SRC-013|203.0.113.99',
      'ANLY-SRC-014|dev|priv',
      'ANLY-SRC-014|dev|hostfs',
      // exec into a pod outside the protected namespaces: the lower-level rule.
      `ANLY-SRC-020|${user}|dev|web-0|exec`,
    ].sort(),
  };
}
