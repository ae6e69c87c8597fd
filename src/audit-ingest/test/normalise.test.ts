import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAuditEvent } from '@auditflow/common';
import { SyslogFramer } from '../src/listeners/syslog-framing.ts';
import type { SourceMeta } from '../src/normalise/event-builder.ts';
import { mapProgramLine } from '../src/normalise/linux-auth.ts';
import { Normaliser } from '../src/normalise/normaliser.ts';
import { parseSyslog, ZoneOffset } from '../src/normalise/syslog-parser.ts';
import { auditEventList, linuxLines, rfc3164, rfc5424 } from './samples.ts';

const NOW = Date.parse('2026-12-02T12:33:07.000Z');
const utc = new ZoneOffset('UTC');
const meta: SourceMeta = { kind: 'syslog', transport: 'tcp', peer: '10.0.0.21:40000' };

describe('syslog header formats', () => {
  test('RFC 5424 with structured data, as logger --rfc5424 writes it', () => {
    const m = parseSyslog('<86>1 2026-12-02T12:33:07.123456+01:00 pi-a sshd 4100 ID47 [timeQuality tzKnown="1" isSynced="0"][x@1 a="q\\"]"] \uFEFFFailed password', { now: NOW, zone: utc });
    assert.equal(m.format, 'rfc5424');
    assert.equal(m.facility, 10);
    assert.equal(m.severity, 6);
    assert.equal(m.timestamp, Date.parse('2026-12-02T11:33:07.123Z'));
    assert.deepEqual([m.hostname, m.appName, m.procId, m.msgId], ['pi-a', 'sshd', '4100', 'ID47']);
    assert.equal(m.structuredData, '[timeQuality tzKnown="1" isSynced="0"][x@1 a="q\\"]"]');
    assert.equal(m.message, 'Failed password');
  });

  test('RFC 5424 NILVALUEs', () => {
    const m = parseSyslog('<13>1 - - - - - -', { now: NOW, zone: utc });
    assert.deepEqual([m.timestamp, m.hostname, m.appName, m.message], [undefined, undefined, undefined, '']);
  });

  test('RFC 3164 with a space-padded day, a tag with pid, and the year from the receive time', () => {
    const m = parseSyslog('<38>Dec  2 12:30:01 pi-b sudo[5001]: alice : TTY=pts/0 ; USER=root ; COMMAND=/bin/ls\n', { now: NOW, zone: utc });
    assert.equal(m.format, 'rfc3164');
    assert.equal(m.timestamp, Date.parse('2026-12-02T12:30:01Z'));
    assert.deepEqual([m.hostname, m.appName, m.procId], ['pi-b', 'sudo', '5001']);
    assert.equal(m.message, 'alice : TTY=pts/0 ; USER=root ; COMMAND=/bin/ls');
  });

  test('RFC 3164 of 31 December received on 1 January belongs to the previous year', () => {
    const m = parseSyslog('<13>Dec 31 23:59:59 h app: x', { now: Date.parse('2027-01-01T00:00:05Z'), zone: utc });
    assert.equal(m.timestamp, Date.parse('2026-12-31T23:59:59Z'));
  });

  test('RFC 3164 timestamps are read in SYSLOG_TIMEZONE', () => {
    const m = parseSyslog('<13>Jul  1 14:00:00 h app: x', { now: Date.parse('2026-07-02T00:00:00Z'), zone: new ZoneOffset('Europe/Berlin') });
    assert.equal(m.timestamp, Date.parse('2026-07-01T12:00:00Z'));
  });

  test('rsyslog forward format (ISO timestamp, no version) and a sender without a hostname', () => {
    const a = parseSyslog('<86>2026-12-02T12:33:07.5+00:00 pi-c sshd[9]: hello', { now: NOW, zone: utc });
    assert.deepEqual([a.format, a.hostname, a.appName, a.timestamp], ['rfc3164', 'pi-c', 'sshd', Date.parse('2026-12-02T12:33:07.5Z')]);
    const b = parseSyslog('<13>Dec  2 12:33:07 sshd[9]: hello', { now: NOW, zone: utc });
    assert.deepEqual([b.hostname, b.appName, b.message], [undefined, 'sshd', 'hello']);
  });

  for (const bad of ['no pri at all', '<999>1 - - - - - -', '<13>1 2026-13-45T99:00:00Z h a - - -', '<13>yesterday host app: x', '<13>1 - h a p']) {
    test(`unparseable: ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseSyslog(bad, { now: NOW, zone: utc }), { name: 'Error' });
    });
  }
});

describe('RFC 6587 framing', () => {
  test('octet counting and newline framing, split across chunks at every byte', () => {
    const stream = Buffer.from('14 <13>1 - - - ab\n<13>Dec  2 12:00:00 h a: line two\n5 <1>x\x00<13>Dec  2 12:00:00 h a: three\n');
    for (let cut = 1; cut < stream.length; cut++) {
      const framer = new SyslogFramer(1024);
      const items = [...framer.push(stream.subarray(0, cut)), ...framer.push(stream.subarray(cut))];
      assert.deepEqual(items.map((i) => i.frame?.toString()), ['<13>1 - - - ab', '<13>Dec  2 12:00:00 h a: line two', '<1>x\x00', '<13>Dec  2 12:00:00 h a: three'], `cut at ${cut}`);
    }
  });

  test('an oversized octet-counted frame is reported and skipped without losing sync', () => {
    const framer = new SyslogFramer(480);
    const big = `<13>1 - - - - - ${'x'.repeat(600)}`;
    const items = framer.push(Buffer.from(`${Buffer.byteLength(big)} ${big}7 <13>1 -`));
    assert.equal(items.length, 2);
    assert.match(items[0]!.error!, /exceeds 480/);
    assert.equal(items[1]!.frame!.toString(), '<13>1 -');
  });

  test('an endless line without a newline is reported once and discarded up to the next newline', () => {
    const framer = new SyslogFramer(480);
    const first = framer.push(Buffer.from(`<13>${'y'.repeat(500)}`));
    assert.equal(first.length, 1);
    assert.ok(first[0]!.error);
    assert.deepEqual(framer.push(Buffer.from('y'.repeat(100))), []);
    assert.deepEqual(framer.push(Buffer.from('yy\n<13>ok\n')).map((i) => i.frame?.toString()), ['<13>ok']);
  });
});

describe('Linux program lines map to the fields the rules use', () => {
  const one = (program: string, message: string) => {
    const outcome = mapProgramLine({ program, message });
    assert.equal(outcome.kind, 'event', `${program}: ${message}`);
    return (outcome as { record: { event_type: string; action_result: string; user_id: string; details: Record<string, unknown> } }).record;
  };
  test('sshd', () => {
    assert.deepEqual(
      (({ event_type, action_result, user_id, details }) => ({ event_type, action_result, user_id, ip: details['ip_address'], method: details['auth_method'] }))(one('sshd', 'Failed password for pi from 203.0.113.7 port 51000 ssh2')),
      { event_type: 'ssh_login', action_result: 'FAILURE', user_id: 'pi', ip: '203.0.113.7', method: 'password' },
    );
    const key = one('sshd', 'Accepted publickey for ansible from 2001:db8::5 port 50122 ssh2: ED25519 SHA256:abc');
    assert.deepEqual([key.action_result, key.user_id, key.details['ip_address'], key.details['auth_method']], ['SUCCESS', 'ansible', '2001:db8::5', 'publickey']);
    const invalid = one('sshd-session', 'Failed password for invalid user admin from 198.51.100.23 port 40000 ssh2');
    assert.deepEqual([invalid.user_id, invalid.details['invalid_user']], ['admin', true]);
    assert.equal(one('sshd', 'Invalid user oracle from 198.51.100.23 port 40001').event_type, 'ssh_invalid_user');
    assert.equal(mapProgramLine({ program: 'sshd', message: 'Connection closed by authenticating user root 1.2.3.4 port 22 [preauth]' }).kind, 'ignored');
  });
  test('sudo', () => {
    const ok = one('sudo', '   alice : TTY=pts/1 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow ; echo')
    assert.deepEqual([ok.event_type, ok.action_result, ok.user_id, ok.details['command'], ok.details['target_user'], ok.details['cwd']], ['sudo', 'SUCCESS', 'alice', '/usr/bin/cat /etc/shadow ; echo', 'root', '/home/alice']);
    const wrong = one('sudo', 'bob : 3 incorrect password attempts ; TTY=pts/2 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/su -');
    assert.deepEqual([wrong.action_result, wrong.details['attempts'], wrong.details['command']], ['FAILURE', 3, '/usr/bin/su -']);
    assert.equal(one('sudo', 'mallory : user NOT in sudoers ; TTY=pts/3 ; PWD=/home/mallory ; USER=root ; COMMAND=/bin/bash').action_result, 'DENIED');
    assert.equal(one('sudo', 'carol : a password is required ; TTY=unknown ; PWD=/ ; USER=root ; COMMAND=/bin/true').action_result, 'FAILURE');
    assert.equal(mapProgramLine({ program: 'sudo', message: 'pam_unix(sudo:session): session opened for user root(uid=0) by alice(uid=1000)' }).kind, 'ignored');
  });
  test('shadow-utils, su, systemd and auditd', () => {
    assert.deepEqual(
      (({ action_result, details }) => [action_result, details['change'], details['account']])(one('useradd', 'new user: name=backdoor, UID=1005, GID=1005, home=/home/backdoor, shell=/bin/bash, from=/dev/pts/1')),
      ['CREATED', 'user_created', 'backdoor'],
    );
    const member = one('usermod', "add 'backdoor' to group 'sudo'");
    assert.deepEqual([member.details['change'], member.details['account'], member.details['group']], ['group_member_added', 'backdoor', 'sudo']);
    assert.equal(mapProgramLine({ program: 'usermod', message: "add 'backdoor' to shadow group 'sudo'" }).kind, 'ignored');
    assert.equal(one('userdel', "delete user 'olduser'").details['change'], 'user_deleted');
    assert.equal(one('groupadd', 'new group: name=devs, GID=1002').details['change'], 'group_created');
    assert.equal(one('gpasswd', 'user bob added by root to group docker').details['group'], 'docker');
    assert.deepEqual((({ action_result, user_id, details }) => [action_result, user_id, details['target_user']])(one('su', 'FAILED SU (to root) alice on pts/1')), ['FAILURE', 'alice', 'root']);
    assert.deepEqual((({ event_type, action_result, details }) => [event_type, action_result, details['resource']])(one('systemd', 'Stopped auditd.service - Security Auditing Service.')), ['service_status_change', 'STOPPED', 'auditd.service']);
    const audit = one('audisp-syslog', "type=USER_AUTH msg=audit(1733140000.5:812): pid=1 uid=0 auid=4294967295 ses=1 msg='op=PAM:authentication acct=\"pi\" exe=\"/usr/sbin/sshd\" addr=203.0.113.7 terminal=ssh res=failed'");
    assert.deepEqual([audit.action_result, audit.user_id, audit.details['record_type'], audit.details['ip_address']], ['FAILURE', 'pi', 'USER_AUTH', '203.0.113.7']);
  });
  test('every sample line of a host maps or is deliberately ignored', () => {
    const kinds = linuxLines({ brute: '203.0.113.7', spray: '198.51.100.23', admin: '192.0.2.10' }).map((line) => mapProgramLine(line).kind);
    assert.ok(!kinds.includes('invalid'));
    assert.equal(kinds.filter((k) => k === 'event').length, 30);
  });
});

describe('the normaliser builds contract events with a source block', () => {
  const normaliser = new Normaliser({ clusterName: 'pi-cluster', zone: utc, clock: () => NOW });
  test('syslog in both formats', () => {
    const line = linuxLines({ brute: '203.0.113.7', spray: '198.51.100.23', admin: '192.0.2.10' })[0]!;
    for (const text of [rfc3164(line, 'pi-a', new Date(NOW)), rfc5424(line, 'pi-a', new Date(NOW))]) {
      const result = normaliser.syslog(Buffer.from(text), meta);
      assert.equal(result.kind, 'event');
      const event = (result as { event: Record<string, unknown> & { source: Record<string, unknown> } }).event;
      assert.ok(isAuditEvent(event));
      assert.equal(event['server_hostname'], 'pi-a');
      assert.equal(event['source_service'], 'sshd');
      assert.equal(event['timestamp'], new Date(NOW).toISOString());
      assert.deepEqual(event.source, { kind: 'syslog', host: 'pi-a', transport: 'tcp', peer: '10.0.0.21:40000', program: 'sshd', original: text });
    }
  });
  test('unparseable syslog and invalid UTF-8 are dead letters with a reason', () => {
    const a = normaliser.syslog(Buffer.from('hello world'), meta);
    assert.equal(a.kind, 'dead');
    assert.match((a as { letter: { reason: string } }).letter.reason, /PRI/);
    const b = normaliser.syslog(Buffer.from([0x3c, 0x31, 0x33, 0x3e, 0xff, 0xfe]), meta);
    assert.equal((b as { letter: { code: string } }).letter.code, 'AF_INGEST_INVALID_UTF8');
  });
  test('journald entries, with a stable id from the cursor', () => {
    const entry = { __CURSOR: 's=abc;i=1f2', __REALTIME_TIMESTAMP: '1796214787123456', _HOSTNAME: 'pi-j', SYSLOG_IDENTIFIER: 'sshd', MESSAGE: 'Failed password for pi from 203.0.113.7 port 51000 ssh2' };
    const first = normaliser.journald(entry, JSON.stringify(entry), { kind: 'journald', transport: 'http', peer: undefined });
    const again = normaliser.journald(entry, JSON.stringify(entry), { kind: 'journald', transport: 'http', peer: undefined });
    assert.equal(first.kind, 'event');
    const event = (first as { event: { event_id: string; timestamp: string; server_hostname: string } }).event;
    assert.equal(event.event_id, (again as { event: { event_id: string } }).event.event_id);
    assert.equal(event.timestamp, '2026-12-02T12:33:07.123Z');
    assert.equal(event.server_hostname, 'pi-j');
    assert.equal(normaliser.journald({ MESSAGE: [1, 2] }, '{}', { kind: 'journald', transport: 'http', peer: undefined }).kind, 'dead');
  });
  test('Kubernetes audit events', () => {
    const { body } = auditEventList(new Date(NOW), 'dave');
    const items = (body['items'] as Record<string, unknown>[]).map((item) => normaliser.k8sAudit(item, undefined, { kind: 'k8s_audit', transport: 'https', peer: undefined }));
    assert.deepEqual(items.map((i) => i.kind), [...Array(13).fill('event'), 'ignored']);
    const events = items.flatMap((i) => (i.kind === 'event' ? [i.event as unknown as { user_id: string; action_result: string; details: Record<string, unknown>; server_hostname: string; event_id: string }] : []));
    const exec = events[0]!;
    assert.deepEqual([exec.user_id, exec.action_result, exec.server_hostname, exec.details['subresource'], exec.details['namespace'], exec.details['ip_address'], exec.details['human_user']], ['dave', 'SUCCESS', 'pi-cluster', 'exec', 'kube-system', '192.168.1.50', true]);
    assert.equal(events[3]!.details['human_user'], false);
    assert.deepEqual([events[4]!.details['role_ref'], events[4]!.details['subjects']], ['cluster-admin', ['User:eve']]);
    assert.deepEqual([events[6]!.user_id, events[8]!.action_result], ['system:anonymous', 'DENIED']);
    assert.deepEqual([events[9]!.details['privileged'], events[10]!.details['host_path'], events[10]!.details['host_paths'], events[11]!.details['privileged']], [true, true, ['/'], false]);
    // The same auditID and stage is the same event: a webhook retry is never counted twice.
    const again = normaliser.k8sAudit((body['items'] as unknown[])[0], undefined, { kind: 'k8s_audit', transport: 'https', peer: undefined });
    assert.equal((again as { event: { event_id: string } }).event.event_id, exec.event_id);
    for (const bad of [42, { kind: 'Pod' }, { kind: 'Event', auditID: 'x', stage: 'ResponseComplete', verb: 'get', user: {}, stageTimestamp: 'nope' }]) {
      assert.equal(normaliser.k8sAudit(bad, undefined, { kind: 'k8s_audit', transport: 'https', peer: undefined }).kind, 'dead');
    }
  });
  test('an audit event with a huge request body is shortened to fit the event size limit', () => {
    const { body } = auditEventList(new Date(NOW), 'dave');
    const big = { ...(body['items'] as Record<string, unknown>[])[9]!, requestObject: { ...pod(), filler: 'z'.repeat(200_000) } };
    const result = normaliser.k8sAudit(big, undefined, { kind: 'k8s_audit', transport: 'https', peer: undefined });
    assert.equal(result.kind, 'event');
    const event = (result as { event: { source: { truncated?: boolean; original: Record<string, unknown> } } }).event;
    assert.equal(event.source.truncated, true);
    assert.equal(event.source.original['requestObject'], undefined);
    assert.ok(Buffer.byteLength(JSON.stringify(event)) < 64 * 1024);
  });
});

function pod() {
  return { kind: 'Pod', spec: { containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] } };
}

describe('a record claims its time only within the allowed skew of its receive time', () => {
  const normaliser = new Normaliser({ clusterName: 'pi-cluster', zone: utc, clock: () => NOW, timeBounds: { maxFutureSkewMs: 60_000, maxPastSkewMs: 3_600_000 } });
  const line = (at: string) => `<86>1 ${at} pi-a sshd 4100 - - Failed password for pi from 203.0.113.7 port 51000 ssh2`;
  for (const [label, at, direction] of [
    ['a year ahead', '2027-12-02T12:33:07.000Z', 'future'],
    ['two hours behind', '2026-12-02T10:33:07.000Z', 'past'],
  ] as const) {
    test(`${label}: kept, at the receive time, with the claim in clock_skew`, () => {
      const result = normaliser.syslog(Buffer.from(line(at)), meta);
      const event = (result as { event: Record<string, unknown> }).event;
      assert.ok(isAuditEvent(event));
      assert.equal(event['timestamp'], new Date(NOW).toISOString());
      assert.deepEqual({ ...(event['clock_skew'] as object) }, { claimed_timestamp: at, direction, skew_seconds: Math.round((Date.parse(at) - NOW) / 1000) });
    });
  }
  test('within the skew: the claimed time, no clock_skew', () => {
    const event = (normaliser.syslog(Buffer.from(line('2026-12-02T12:33:50.000Z')), meta) as { event: Record<string, unknown> }).event;
    assert.equal(event['timestamp'], '2026-12-02T12:33:50.000Z');
    assert.equal(event['clock_skew'], undefined);
  });
});

describe('a NUL in a record cannot make its alerts unstorable', () => {
  test('removed from every field at normalisation, and recorded in source.sanitised', () => {
    const normaliser = new Normaliser({ clusterName: 'pi-cluster', zone: utc, clock: () => NOW });
    const text = `<86>1 ${new Date(NOW).toISOString()} pi-a sshd 4100 - - Failed password for mal\u0000lory from 203.0.113.7 port 51000 ssh2`;
    const result = normaliser.syslog(Buffer.from(text), meta);
    const event = (result as { event: Record<string, unknown> & { source: Record<string, unknown> } }).event;
    assert.ok(isAuditEvent(event));
    assert.equal(event['user_id'], 'mallory');
    assert.equal(event.source['sanitised'], true);
    assert.ok(!JSON.stringify(event).includes('\\u0000'), 'no NUL left anywhere');
    const plain = (normaliser.syslog(Buffer.from(text.replace('\u0000', '')), meta) as { event: { source: Record<string, unknown> } }).event;
    assert.equal(plain.source['sanitised'], undefined);
  });
});
