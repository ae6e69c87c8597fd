import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEAD_LETTER_HEADERS } from '@auditflow/common';
import { waitFor } from '../../common/test/support.ts';
import { cleanup, QueueCollector, type RunningAnalysis, startTestAnalysis, testNames } from '../../audit-log-analysis/test/integration-support.ts';
import { auditEventList, expectedLinuxAlerts, linuxLines, octetCounted, rfc3164, rfc5424 } from './samples.ts';
import { type RunningIngest, sendTcp, signatures, startTestIngest } from './support.ts';

/**
 * The samples, sent the way real senders send them (syslog over TCP in both
 * header formats and both framings, over UDP, and an EventList over HTTP),
 * through audit-ingest, the real RabbitMQ and a running analysis with the
 * shipped rules: each sample raises exactly its expected alerts.
 */
describe('real audit samples raise exactly their expected alerts', () => {
  const names = testNames('ingest');
  let analysis: RunningAnalysis;
  let ingest: RunningIngest;
  let alerts: QueueCollector;
  let deadLetters: QueueCollector;
  const hosts = {
    a: { host: 'pi-a', ip: { brute: '203.0.113.7', spray: '198.51.100.23', admin: '192.0.2.10' } },
    b: { host: 'pi-b', ip: { brute: '203.0.113.8', spray: '198.51.100.24', admin: '192.0.2.11' } },
    c: { host: 'pi-c', ip: { brute: '203.0.113.9', spray: '198.51.100.25', admin: '192.0.2.12' } },
  };
  const audit = auditEventList(new Date(), 'dave');
  let auditAnswer: { status: number; body: Record<string, unknown> };
  const badAnswers: { status: number; body: Record<string, unknown> }[] = [];

  before(async () => {
    analysis = await startTestAnalysis(names);
    ingest = await startTestIngest(names);
    alerts = new QueueCollector(names.alertQueue);
    deadLetters = new QueueCollector(`${names.queue}.dlq`);
    const now = new Date();
    const syslog = ingest.handle.syslog!;
    // pi-a: RFC 3164, newline framing (rsyslog's traditional forward format).
    await sendTcp(syslog.tcpPort!, `${linuxLines(hosts.a.ip).map((line) => rfc3164(line, hosts.a.host, now)).join('\n')}\n`);
    // pi-b: RFC 5424 with octet counting (rsyslog's RSYSLOG_SyslogProtocol23Format over omfwd TCP).
    await sendTcp(syslog.tcpPort!, linuxLines(hosts.b.ip).map((line) => octetCounted(rfc5424(line, hosts.b.host, now))).join(''));
    // pi-c: RFC 5424 over UDP, one datagram per message.
    const { createSocket } = await import('node:dgram');
    const udp = createSocket('udp4');
    for (const line of linuxLines(hosts.c.ip)) {
      await new Promise<void>((resolve, reject) => udp.send(rfc5424(line, hosts.c.host, now), syslog.udpPort!, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
    }
    udp.close();
    const response = await fetch(`${ingest.handle.urls['http']}/k8s/audit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(audit.body),
    });
    auditAnswer = { status: response.status, body: (await response.json()) as Record<string, unknown> };
    // Malformed input: a syslog line without a header, a line that is not JSON in an audit log, and a body that is no audit event at all.
    await sendTcp(syslog.tcpPort!, 'this is not syslog\n');
    for (const [type, body] of [
      ['application/x-ndjson', `${JSON.stringify((audit.body['items'] as unknown[])[0])}\n{not json\n`],
      ['application/json', JSON.stringify({ kind: 'PodList', items: 'nope' })],
    ] as const) {
      const bad = await fetch(`${ingest.handle.urls['http']}/k8s/audit`, { method: 'POST', headers: { 'content-type': type }, body });
      badAnswers.push({ status: bad.status, body: (await bad.json()) as Record<string, unknown> });
    }
    const expectedCount = 3 * expectedLinuxAlerts('x', hosts.a.ip).length + audit.expected.length;
    await waitFor(() => signatures(alerts.alerts).length >= expectedCount || undefined, 30_000, 'the expected alerts');
    await waitFor(() => deadLetters.messages.length >= 3 || undefined, 10_000, 'the dead letters');
    // Room for any unexpected alert to arrive before the assertions look.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  });

  after(async () => {
    await alerts.close();
    await deadLetters.close();
    await ingest.stop();
    await analysis.stop();
    await cleanup(names);
  });

  for (const [label, key] of [['RFC 3164 over TCP, newline framing', 'a'], ['RFC 5424 over TCP, octet counting', 'b'], ['RFC 5424 over UDP', 'c']] as const) {
    test(`sshd, sudo, useradd/usermod and systemd lines (${label})`, () => {
      const { host, ip } = hosts[key];
      const raised = signatures(alerts.alerts, (alert) => alert.raw_event_data['server_hostname'] === host);
      assert.deepEqual(raised, expectedLinuxAlerts(host, ip));
    });
  }

  test('a Kubernetes audit EventList: exec, secrets, cluster-admin binding, anonymous access, privileged and hostPath pods', () => {
    assert.equal(auditAnswer.status, 200);
    assert.deepEqual(auditAnswer.body, { published: 13, ignored: 1, dead_lettered: 0, errors: [] });
    const raised = signatures(alerts.alerts, (alert) => alert.raw_event_data['source_service'] === 'kube-apiserver');
    assert.deepEqual(raised, audit.expected);
  });

  test('no alert from anything else', () => {
    assert.equal(signatures(alerts.alerts).length, 3 * 8 + audit.expected.length);
  });

  test('malformed input is dead-lettered with its reason and named in the answer', () => {
    assert.equal(badAnswers[0]!.status, 200);
    assert.equal(badAnswers[0]!.body['dead_lettered'], 1);
    assert.equal(badAnswers[1]!.status, 400);
    assert.equal(badAnswers[1]!.body['code'], 'AF_INGEST_NOT_AN_AUDIT_EVENT');
    const letters = deadLetters.messages.map((m) => ({ code: m.headers[DEAD_LETTER_HEADERS.code], reason: String(m.headers[DEAD_LETTER_HEADERS.reason]), body: m.body.toString() }));
    assert.deepEqual(letters.map((l) => l.code).sort(), ['AF_INGEST_INVALID_JSON', 'AF_INGEST_NOT_AN_AUDIT_EVENT', 'AF_INGEST_SYSLOG_UNPARSEABLE']);
    const syslog = letters.find((l) => l.code === 'AF_INGEST_SYSLOG_UNPARSEABLE')!;
    assert.equal(syslog.body, 'this is not syslog');
    assert.match(syslog.reason, /PRI/);
    assert.equal(letters.find((l) => l.code === 'AF_INGEST_INVALID_JSON')!.body, '{not json');
  });

  test('the counters add up', async () => {
    const text = await ingest.handle.registry.metrics();
    assert.match(text, /audit_ingest_dead_letter_total\{source="syslog",code="AF_INGEST_SYSLOG_UNPARSEABLE"[^}]*\} 1/);
    assert.match(text, /audit_ingest_events_published_total\{source="k8s_audit"[^}]*\} 14/);
    assert.match(text, /audit_ingest_events_published_total\{source="syslog"[^}]*\} 90/);
  });
});
