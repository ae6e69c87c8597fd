import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { AmqpBroker, type Alert, type AuditEvent } from '@auditflow/common';
import { wireAlertLabels } from '@auditflow/common/contracts';
import { renderExceptionsFile } from '@auditflow/common/exceptions-file';
import { Normaliser } from '../../audit-ingest/src/normalise/normaliser.ts';
import { ZoneOffset } from '../../audit-ingest/src/normalise/syslog-parser.ts';
import { loadAnalysisConfig } from '../src/config.ts';
import { parseRules } from '../src/rules/rule-parser.ts';
import { startAnalysis } from '../src/service/start-analysis.ts';
import { RedisWindowStore } from '../src/store/redis-window-store.ts';
import { silentLogger, waitFor } from '../../common/test/support.ts';
import { makeEvent, T0 } from './fixtures.ts';
import { cleanup, QueueCollector, TestPublisher, testNames } from './integration-support.ts';

const DAY = 86_400_000;
const FIRST_SEEN = new Set(['ANLY-FS-002', 'ANLY-FS-003']);

/**
 * The shipped first_seen rules (ANLY-FS-002 address, ANLY-FS-003 country) on real sshd lines,
 * normalised by audit-ingest's own normaliser, with the country computed by the analysis from the
 * packaged databases (never taken from the producer), and an exception on ANLY-FS-002.
 */
describe('first_seen × enrichment × exceptions through the real analysis (RabbitMQ and Redis)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-enrich-'));
  const exceptionsFile = join(dir, 'exceptions.yaml');
  writeFileSync(
    exceptionsFile,
    renderExceptionsFile([
      {
        id: 'cloudflare-jump-host',
        rule_id: 'ANLY-FS-002',
        fields: { host: 'pi-1', 'details.ip_address': '1.1.1.1' },
        author: 'test',
        reason: 'our jump host',
        created_at: new Date().toISOString(),
      },
    ]),
  );
  const names = testNames('fs-enrich', { EXCEPTIONS_FILE: exceptionsFile });
  const publisher = new TestPublisher();
  const alerts = new QueueCollector(names.alertQueue);
  const clock = { now: T0 };
  const normaliser = new Normaliser({ clusterName: 'pi-cluster', zone: new ZoneOffset('UTC'), clock: () => clock.now });
  after(async () => {
    await alerts.close();
    await publisher.close();
    await cleanup(names);
    rmSync(dir, { recursive: true, force: true });
  });

  /** An sshd line as rsyslog forwards it (RFC 5424), turned into the event audit-ingest publishes. */
  const sshd = (host: string, message: string) => {
    const line = `<86>1 ${new Date(clock.now).toISOString()} ${host} sshd 4301 - - ${message}`;
    const result = normaliser.syslog(Buffer.from(line), { kind: 'syslog', transport: 'tcp', peer: '10.0.0.21:40000' });
    assert.equal(result.kind, 'event', line);
    return (result as { event: AuditEvent }).event;
  };
  const accepted = (ip: string, host = 'pi-1', user = 'alice') => sshd(host, `Accepted publickey for ${user} from ${ip} port 50123 ssh2: ED25519 SHA256:abc`);
  const password = (ip: string, host = 'pi-1', user = 'alice') => sshd(host, `Accepted password for ${user} from ${ip} port 50124 ssh2`);
  /** A producer posting an ssh_login event directly, with an enrichment of its own. */
  const forged = (ip: string, enrichment: unknown, host = 'pi-1') => ({
    ...makeEvent({ event_type: 'ssh_login', action_result: 'SUCCESS', server_hostname: host, user_id: 'alice', at: clock.now, details: { ip_address: ip } }),
    enrichment,
  });
  const firstSeen = () => alerts.alerts.filter((a) => FIRST_SEEN.has(a.analysis_rule?.rule_id ?? ''));
  const summary = (list: readonly Alert[]) => list.map((a) => `${a.analysis_rule?.rule_id} ${JSON.stringify(a.group_key)}`).sort();

  test('a country first seen after learning raises one alert naming it; learning, repeats, no-country addresses and forged enrichment raise nothing; an exception hides its first-seen alert', async () => {
    const config = loadAnalysisConfig(names.env, { standalone: true });
    const broker = new AmqpBroker({ url: config.rabbit.url!, logger: silentLogger, connectionName: 'fs-enrich-it', queueType: config.rabbit.queueType });
    const store = new RedisWindowStore({ url: config.redis.url!, keyPrefix: config.redis.keyPrefix });
    const handle = await startAnalysis({ config, logger: silentLogger, broker, windowStore: store, host: '127.0.0.1', now: () => clock.now });
    const metrics = () => handle.registry.metrics();
    const acked = async () => Number(/^audit_analysis_events_total\{outcome="ack"[^}]*\} (\d+)$/m.exec(await metrics())?.[1] ?? 0);
    const handled = (count: number) => waitFor(async () => ((await acked()) >= count ? true : undefined), 20_000, `${count} acked`);
    const learned = async (rule: string) => Number(new RegExp(`^audit_analysis_first_seen_values\\{rule_id="${rule}"[^}]*\\} (\\d+)$`, 'm').exec(await metrics())?.[1] ?? 0);
    try {
      // Learning: the US (8.8.8.8) is learned for pi-1; a LAN and a documentation address have no country.
      // A forged 'DE' on a US address must not teach DE.
      await publisher.events(names.queue, [accepted('8.8.8.8'), password('192.168.1.150'), accepted('192.0.2.10'), forged('8.8.8.8', { ip: { address: '8.8.8.8', scope: 'public', country: 'DE' } })]);
      await handled(4);
      assert.deepEqual(summary(firstSeen()), [], 'nothing during learning');
      assert.equal(await learned('ANLY-FS-003'), 1, 'only US learned for pi-1: no country for private/documentation addresses, the forged DE ignored');

      clock.now = T0 + 7 * DAY + 1000;
      await publisher.events(names.queue, [
        // AU is new for pi-1: FS-003 fires; FS-002 (new address) is hidden by the exception.
        accepted('1.1.1.1'),
        // Repeats: AU again (same address: nothing), the US from a new Google address (FS-002 only).
        password('1.1.1.1'),
        accepted('8.8.4.4'),
        // No country: FS-002 fires for the new addresses, FS-003 never.
        accepted('10.20.30.40'),
        accepted('198.51.100.7'),
        // Forged to trigger: a US address claiming FR raises no FS-003 (FR is not really seen).
        forged('8.8.8.8', { ip: { address: '8.8.8.8', scope: 'public', country: 'FR' } }),
        // Forged to suppress: a DE address (heise.de) claiming the learned US still raises FS-003 for DE.
        forged('193.99.144.80', { ip: { address: '193.99.144.80', scope: 'public', country: 'US' } }),
      ]);
      await handled(11);
      await waitFor(() => (firstSeen().length >= 5 ? true : undefined), 15_000, 'five first-seen alerts');
      // Room for a wrongly raised or duplicated alert to arrive too.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.deepEqual(summary(firstSeen()), [
        'ANLY-FS-002 {"server_hostname":"pi-1","details.ip_address":"10.20.30.40"}',
        'ANLY-FS-002 {"server_hostname":"pi-1","details.ip_address":"193.99.144.80"}',
        'ANLY-FS-002 {"server_hostname":"pi-1","details.ip_address":"198.51.100.7"}',
        'ANLY-FS-002 {"server_hostname":"pi-1","details.ip_address":"8.8.4.4"}',
        'ANLY-FS-003 {"server_hostname":"pi-1","enrichment.ip.country":"AU"}',
        'ANLY-FS-003 {"server_hostname":"pi-1","enrichment.ip.country":"DE"}',
      ]);
      const au = firstSeen().find((a) => a.group_key?.['enrichment.ip.country'] === 'AU')!;
      assert.match(au.description ?? '', /AU/, 'the alert names the country');
      assert.equal(au.enrichment?.ip?.country, 'AU');
      assert.equal(au.triggered_by?.client_ip, '1.1.1.1');
      const de = firstSeen().find((a) => a.group_key?.['enrichment.ip.country'] === 'DE')!;
      assert.equal(de.enrichment?.ip?.country, 'DE', 'the forged US was replaced by the real country');
      // The label set exceptions (and their preview) match on carries the learned fields.
      const labels = wireAlertLabels(au);
      assert.equal(labels['enrichment.ip.country'], 'AU');
      assert.equal(labels['server_hostname'], 'pi-1');
      assert.equal(labels['host'], 'pi-1');
      assert.equal(wireAlertLabels(firstSeen().find((a) => a.analysis_rule?.rule_id === 'ANLY-FS-002')!)['details.ip_address'] !== undefined, true);

      const text = await metrics();
      assert.match(text, /^audit_analysis_alerts_excepted_total\{rule_id="ANLY-FS-002",exception="cloudflare-jump-host",kind="new"[^}]*\} 1$/m);
      // An excepted value is still learned: 1.1.1.1 again later raises nothing either.
      clock.now += DAY;
      await publisher.events(names.queue, [accepted('1.1.1.1'), accepted('212.27.48.10')]);
      await handled(13);
      await waitFor(() => (firstSeen().length >= 8 ? true : undefined), 15_000, 'the FR alerts');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.equal(firstSeen().length, 8);
      assert.deepEqual(summary(firstSeen().slice(6)), [
        'ANLY-FS-002 {"server_hostname":"pi-1","details.ip_address":"212.27.48.10"}',
        'ANLY-FS-003 {"server_hostname":"pi-1","enrichment.ip.country":"FR"}',
      ]);
      assert.equal(await learned('ANLY-FS-003'), 4, 'US, AU, DE, FR');
    } finally {
      await handle.stop();
      await broker.close();
      await store.close();
    }
  });
});

describe('first_seen on the host role from HOSTS_FILE, through the real analysis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-role-'));
  const hostsFile = join(dir, 'hosts.yaml');
  writeFileSync(hostsFile, 'hosts:\n  pi-1: { owner: alice, role: k3s-server }\n  pi-2: { owner: alice, role: k3s-agent }\n  pi-3: { owner: bob, role: k3s-agent }\n');
  const names = testNames('fs-role', { HOSTS_FILE: hostsFile });
  const publisher = new TestPublisher();
  const alerts = new QueueCollector(names.alertQueue);
  const clock = { now: T0 };
  const rules = parseRules(
    `title: SSH login
id: IT-SSH
name: ssh_ok
detection:
  sel: { event_type: ssh_login, action_result: SUCCESS }
  condition: sel
---
title: First login by an account to a host of a role
id: IT-FS-ROLE
correlation:
  type: first_seen
  rules: [ssh_ok]
  group-by: [user_id]
  fields: [enrichment.host.role]
  learning_period: 7d
`,
    'fs-role-it.yaml',
  );
  after(async () => {
    await alerts.close();
    await publisher.close();
    await cleanup(names);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a role first used by an account after learning raises one alert; a host without a role, a repeat and a forged role raise nothing', async () => {
    const config = loadAnalysisConfig(names.env, { standalone: true });
    const broker = new AmqpBroker({ url: config.rabbit.url!, logger: silentLogger, connectionName: 'fs-role-it', queueType: config.rabbit.queueType });
    const store = new RedisWindowStore({ url: config.redis.url!, keyPrefix: config.redis.keyPrefix });
    const handle = await startAnalysis({ config, logger: silentLogger, broker, windowStore: store, host: '127.0.0.1', rules, now: () => clock.now });
    const acked = async () => Number(/^audit_analysis_events_total\{outcome="ack"[^}]*\} (\d+)$/m.exec(await handle.registry.metrics())?.[1] ?? 0);
    const handled = (count: number) => waitFor(async () => ((await acked()) >= count ? true : undefined), 20_000, `${count} acked`);
    const login = (user: string, host: string, forged?: unknown) => ({
      ...makeEvent({ event_type: 'ssh_login', action_result: 'SUCCESS', server_hostname: host, user_id: user, at: clock.now, details: { ip_address: '192.168.1.50' } }),
      ...(forged === undefined ? {} : { enrichment: forged }),
    });
    try {
      await publisher.events(names.queue, [login('alice', 'pi-2'), login('bob', 'pi-1')]);
      await handled(2);
      clock.now = T0 + 7 * DAY + 1000;
      await publisher.events(names.queue, [
        login('alice', 'pi-3'), // k3s-agent again: learned
        login('alice', 'unknown-host'), // no role: takes no part
        login('alice', 'pi-3', { host: { name: 'pi-3', role: 'k3s-server' } }), // forged role: the real one (agent) counts
        login('bob', 'pi-3', { host: { name: 'pi-3', role: 'k3s-server' } }), // bob's first agent, whatever the forged role says
        login('alice', 'pi-1'), // alice's first server
        login('alice', 'pi-1'),
      ]);
      await handled(8);
      await waitFor(() => (alerts.alerts.length >= 2 ? true : undefined), 15_000, 'two alerts');
      await new Promise((resolve) => setTimeout(resolve, 1000));
      assert.deepEqual(alerts.alerts.map((a) => JSON.stringify(a.group_key)).sort(), [
        '{"user_id":"alice","enrichment.host.role":"k3s-server"}',
        '{"user_id":"bob","enrichment.host.role":"k3s-agent"}',
      ]);
      // Raised by the real login to pi-1, not by the earlier event forging pi-3 as a server.
      assert.equal(alerts.alerts.find((a) => a.group_key?.['user_id'] === 'alice')?.impacted_resource?.server_hostname, 'pi-1');
      assert.deepEqual(alerts.alerts.find((a) => a.group_key?.['user_id'] === 'bob')?.enrichment?.host, { name: 'pi-3', owner: 'bob', role: 'k3s-agent' });
    } finally {
      await handle.stop();
      await broker.close();
      await store.close();
    }
  });
});
