// Issue 18, the forged-future attack: two syslog lines stamped one year ahead for `pi-victim`
// must not blind detection for it. Real UDP listener, real RabbitMQ, real analysis on Redis.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import type { Alert } from '@auditflow/common';
import { waitFor } from '../../common/test/support.ts';
import { makeEvent } from '../../audit-log-analysis/test/fixtures.ts';
import { cleanup, QueueCollector, type RunningAnalysis, startTestAnalysis, TestPublisher, testNames } from '../../audit-log-analysis/test/integration-support.ts';
import { type LinuxLine, rfc5424 } from './samples.ts';
import { type RunningIngest, startTestIngest } from './support.ts';

const YEAR = 365 * 24 * 3600 * 1000;
const ATTACKER = '203.0.113.66';

const sudo = (command: string, pid: number): LinuxLine => ({
  program: 'sudo',
  pid,
  pri: 85,
  message: `mallory : TTY=pts/0 ; PWD=/home/mallory ; USER=root ; COMMAND=${command}`,
});
const sshFailure = (i: number): LinuxLine => ({ program: 'sshd', pid: 7000 + i, pri: 86, message: `Failed password for pi from ${ATTACKER} port ${52000 + i} ssh2` });

async function sendUdp(port: number, messages: readonly string[]): Promise<void> {
  const udp = createSocket('udp4');
  for (const message of messages) {
    await new Promise<void>((resolve, reject) => udp.send(message, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  }
  udp.close();
}

const ruleOf = (alert: Alert) => alert.analysis_rule?.rule_id;
const hostOf = (alert: Alert) => alert.raw_event_data['server_hostname'];
const eventOf = (alert: Alert) => alert.raw_event_data as { details?: { command?: string }; clock_skew?: { direction: string; claimed_timestamp: string } };

describe('event time is bounded by its receive time', () => {
  const names = testNames('forged');
  let analysis: RunningAnalysis;
  let ingest: RunningIngest;
  let alerts: QueueCollector;
  const publisher = new TestPublisher();

  before(async () => {
    analysis = await startTestAnalysis(names);
    ingest = await startTestIngest(names);
    alerts = new QueueCollector(names.alertQueue);
  });
  after(async () => {
    await alerts.close();
    await ingest.stop();
    await analysis.stop();
    await publisher.close();
    await cleanup(names);
  });

  test('two forged lines a year ahead leave the victim its real ANLY-SRC-006 and ANLY-SRC-003 alerts, and raise a skew alert', async () => {
    const port = ingest.handle.syslog!.udpPort!;
    const ahead = new Date(Date.now() + YEAR);
    // The attack: a sudo by mallory and one sshd failure for pi-victim, stamped a year ahead.
    await sendUdp(port, [rfc5424(sudo('/usr/bin/id', 9001), 'pi-victim', ahead), rfc5424(sshFailure(0), 'pi-victim', ahead)]);
    await waitFor(() => alerts.alerts.some((a) => ruleOf(a) === 'ANLY-INT-001' && hostOf(a) === 'pi-victim') || undefined, 20_000, 'the skew alert');

    // The real activity afterwards, on the victim and on a control host.
    for (const host of ['pi-victim', 'pi-control']) {
      const now = new Date();
      await sendUdp(port, [rfc5424(sudo('/bin/rm -rf /var/log', 9100), host, now), ...[1, 2, 3, 4, 5, 6].map((i) => rfc5424(sshFailure(i), host, now))]);
    }
    const realSudo = (host: string) => () =>
      alerts.alerts.find((a) => ruleOf(a) === 'ANLY-SRC-006' && hostOf(a) === host && eventOf(a).details?.command === '/bin/rm -rf /var/log');
    const bruteForce = (host: string) => () => alerts.alerts.find((a) => ruleOf(a) === 'ANLY-SRC-003' && hostOf(a) === host && eventOf(a).clock_skew === undefined);
    for (const host of ['pi-control', 'pi-victim']) {
      await waitFor(realSudo(host), 20_000, `the real ANLY-SRC-006 alert of ${host}`);
      await waitFor(bruteForce(host), 20_000, `the real ANLY-SRC-003 alert of ${host}`);
    }
    // The real alerts are alerts of their own, not updates of an episode the forged lines opened.
    const victimSudo = realSudo('pi-victim')()!;
    const forgedSudo = alerts.alerts.find((a) => ruleOf(a) === 'ANLY-SRC-006' && hostOf(a) === 'pi-victim' && eventOf(a).clock_skew !== undefined);
    assert.ok(forgedSudo, 'the forged sudo still raises its own alert');
    assert.notEqual(victimSudo.alert_id, forgedSudo.alert_id);
    // Nothing was dated beyond now: the forged lines carry their claim, at their receive time.
    const skew = alerts.alerts.find((a) => ruleOf(a) === 'ANLY-INT-001' && hostOf(a) === 'pi-victim')!;
    assert.equal(eventOf(skew).clock_skew?.direction, 'future');
    assert.equal(eventOf(skew).clock_skew?.claimed_timestamp.slice(0, 4), String(ahead.getUTCFullYear()));
    for (const alert of alerts.alerts) assert.ok(Date.parse(alert.last_seen ?? alert.timestamp) <= Date.now() + 60_000, `${ruleOf(alert)} dated ${alert.last_seen}`);
    assert.match(await ingest.handle.registry.metrics(), /audit_ingest_clock_skew_total\{direction="future"[^}]*\} 2/);
    const late = /audit_analysis_late_events_total\{rule_id="ANLY-SRC-003"[^}]*\} (\d+)/.exec(await analysis.handle.registry.metrics());
    assert.equal(late?.[1], '0', 'no real SSH failure was counted as late');
  });

  test('an event published straight to the queue a year ahead is evaluated at its receive time and raises the skew alert', async () => {
    const forged = makeEvent({ server_hostname: 'pi-direct', at: Date.now() + YEAR });
    await publisher.events(names.queue, [forged]);
    const skew = await waitFor(() => alerts.alerts.find((a) => ruleOf(a) === 'ANLY-INT-001' && hostOf(a) === 'pi-direct'), 20_000, 'the skew alert');
    assert.equal(eventOf(skew).clock_skew?.claimed_timestamp, forged.timestamp);
    assert.ok(Date.parse(String(skew.raw_event_data['timestamp'])) <= Date.now());
    assert.match(await analysis.handle.registry.metrics(), /audit_analysis_clock_skew_total\{direction="future"[^}]*\} 1/);
  });
});
