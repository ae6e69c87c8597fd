// Issue 18: who the syslog listeners take records from. Real TLS with client certificates,
// real TCP/UDP sockets, the real RabbitMQ behind them.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect as connectTcp } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect as connectTls } from 'node:tls';
import type { AuditEvent } from '@auditflow/common';
import { waitFor } from '../../common/test/support.ts';
import { cleanup, QueueCollector, TestPublisher, testNames } from '../../audit-log-analysis/test/integration-support.ts';
import { sendTcp, startTestIngest } from './support.ts';
import { makeTlsFixture, type TlsFixture } from './tls-fixture.ts';

const line = (host: string, user: string) => `<86>1 ${new Date().toISOString()} ${host} sshd 4100 - - Failed password for ${user} from 203.0.113.7 port 51000 ssh2\n`;

describe('syslog senders are authenticated or allow-listed', () => {
  const names = testNames('senders');
  const publisher = new TestPublisher();
  let tls: TlsFixture;
  let events: QueueCollector;
  const received = (user: string) => events.messages.map((m) => JSON.parse(m.body.toString()) as AuditEvent).filter((e) => e.user_id === user);

  before(async () => {
    tls = await makeTlsFixture();
    await publisher.declare([names.queue]);
    events = new QueueCollector(names.queue);
  });
  after(async () => {
    await events.close();
    await publisher.close();
    await tls.remove();
    await cleanup(names);
  });

  test('TLS with client certificates: refused without one, accepted with one; a HOSTNAME outside the certificate is flagged', async () => {
    const ingest = await startTestIngest(names, {
      SYSLOG_PLAIN_ENABLED: 'false',
      SYSLOG_TLS_CERT_FILE: tls.serverCertFile,
      SYSLOG_TLS_KEY_FILE: tls.serverKeyFile,
      SYSLOG_TLS_CLIENT_CA_FILE: tls.caFile,
    });
    try {
      const port = ingest.handle.syslog!.tlsPort!;
      assert.equal(ingest.handle.syslog!.tcpPort, undefined, 'no plain listener');
      const send = (options: { cert?: Buffer; key?: Buffer }, data: string) =>
        new Promise<string>((resolve) => {
          const socket = connectTls({ port, host: '127.0.0.1', ca: tls.ca, ...options }, () => socket.end(data));
          socket.on('error', (error) => resolve(`error: ${error.message}`));
          socket.on('close', () => resolve('closed'));
        });
      await send({}, line('kube-apiserver-audit-webhook', 'no_cert'));
      await send({ cert: tls.strangerCert, key: tls.strangerKey }, line('kube-apiserver-audit-webhook', 'stranger_cert'));
      await send({ cert: tls.clientCert, key: tls.clientKey }, line('kube-apiserver-audit-webhook', 'good_cert') + line('pi-b', 'claims_other_host'));
      await waitFor(() => (received('good_cert').length === 1 && received('claims_other_host').length === 1) || undefined, 15_000, 'the authenticated records');
      assert.equal(received('no_cert').length, 0);
      assert.equal(received('stranger_cert').length, 0);
      assert.equal(received('good_cert')[0]!.source?.transport, 'tls');
      assert.equal(received('good_cert')[0]!.source?.host_mismatch, undefined);
      assert.equal(received('claims_other_host')[0]!.source?.host_mismatch, true);
      const metrics = await ingest.handle.registry.metrics();
      assert.match(metrics, /audit_ingest_syslog_refused_total\{transport="tls",reason="handshake_failed"[^}]*\} 2/);
      assert.match(metrics, /audit_ingest_host_mismatch_total\{transport="tls"[^}]*\} 1/);
    } finally {
      await ingest.stop();
    }
  });

  test('plain TCP and UDP take only allow-listed addresses; the sender address is kept and a host sending from another is flagged', async () => {
    const refused = await startTestIngest(names, { SYSLOG_ALLOWED_SENDERS: '10.0.0.0/8' });
    try {
      await sendTcp(refused.handle.syslog!.tcpPort!, line('pi-a', 'tcp_not_allowed'));
      const udp = createSocket('udp4');
      await new Promise<void>((resolve, reject) => udp.send(line('pi-a', 'udp_not_allowed'), refused.handle.syslog!.udpPort!, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
      udp.close();
      await waitFor(async () => /reason="sender_not_allowed"[^}]*\} 1[\s\S]*reason="sender_not_allowed"[^}]*\} 1/.test(await refused.handle.registry.metrics()) || undefined, 10_000, 'both refusals counted');
    } finally {
      await refused.stop();
    }
    const allowed = await startTestIngest(names, { SYSLOG_ALLOWED_SENDERS: '127.0.0.1/32', SYSLOG_SENDER_HOSTS: 'pi-x=10.9.9.9,pi-local=127.0.0.1' });
    try {
      await sendTcp(allowed.handle.syslog!.tcpPort!, line('pi-local', 'honest') + line('pi-x', 'spoofing_pi_x'));
      await waitFor(() => (received('honest').length === 1 && received('spoofing_pi_x').length === 1) || undefined, 15_000, 'the allowed records');
      assert.match(received('honest')[0]!.source?.peer ?? '', /^127\.0\.0\.1:\d+$/);
      assert.equal(received('honest')[0]!.source?.host_mismatch, undefined);
      assert.equal(received('spoofing_pi_x')[0]!.source?.host_mismatch, true);
      assert.equal(received('tcp_not_allowed').length + received('udp_not_allowed').length, 0);
    } finally {
      await allowed.stop();
    }
  });

  test('TCP: an idle connection is closed and connections beyond the cap are refused', async () => {
    const ingest = await startTestIngest(names, { SYSLOG_IDLE_TIMEOUT_SECONDS: '1', SYSLOG_MAX_CONNECTIONS: '2' });
    try {
      const port = ingest.handle.syslog!.tcpPort!;
      const open = () =>
        new Promise<{ closed: Promise<void> }>((resolve) => {
          const socket = connectTcp(port, '127.0.0.1', () => resolve({ closed }));
          const closed = new Promise<void>((done) => socket.on('close', () => done()));
          socket.on('error', () => undefined);
          // A message that never finishes.
          socket.write('<86>1 2026-12-05T10:00:00Z pi-a sshd 1 - - never');
        });
      const started = Date.now();
      const sockets = await Promise.all([open(), open(), open()]);
      await Promise.all(sockets.map((s) => s.closed));
      assert.ok(Date.now() - started < 20_000, 'every connection was closed by the server');
      const metrics = await ingest.handle.registry.metrics();
      assert.match(metrics, /audit_ingest_syslog_refused_total\{transport="tcp",reason="too_many_connections"[^}]*\} 1/);
      assert.match(metrics, /audit_ingest_syslog_refused_total\{transport="tcp",reason="idle_timeout"[^}]*\} 2/);
    } finally {
      await ingest.stop();
    }
  });
});
