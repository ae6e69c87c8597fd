import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { waitFor } from '../../common/test/support.ts';
import { makeEvent, T0 } from './fixtures.ts';
import { cleanup, QueueCollector, startTestAnalysis, TestPublisher, testNames } from './integration-support.ts';

const RULES = fileURLToPath(new URL('./fixtures/enrichment-rules.yaml', import.meta.url));
const HOSTS = `hosts:
  pi-1:
    owner: alice
    role: k3s-server
    groups: [k3s_server]
    addresses: [192.168.1.11]
`;

const CLOUDFLARE = { address: '1.1.1.1', scope: 'public', country: 'AU', asn: 13335, as_org: 'Cloudflare, Inc.' };
const PI_1 = { name: 'pi-1', owner: 'alice', role: 'k3s-server', groups: ['k3s_server'] };

describe('enrichment through the real analysis (RabbitMQ and Redis)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'enrichment-it-'));
  const hostsFile = join(dir, 'hosts.yaml');
  writeFileSync(hostsFile, HOSTS);
  const names = testNames('enrich', { RULES_FILE: RULES, HOSTS_FILE: hostsFile });
  const publisher = new TestPublisher();
  after(async () => {
    await publisher.close();
    await cleanup(names);
    rmSync(dir, { recursive: true, force: true });
  });

  test('rules on enrichment.ip.country and enrichment.host.role fire, the alert carries the enrichment, a forged one is overwritten', async () => {
    const analysis = await startTestAnalysis(names);
    const alerts = new QueueCollector(names.alertQueue);
    try {
      const login = (ip: string, host: string, at: number, forged?: unknown) => ({
        ...makeEvent({ event_type: 'user_login', action_result: 'SUCCESS', server_hostname: host, at, details: { ip_address: ip, protocol: 'ssh' } }),
        ...(forged === undefined ? {} : { enrichment: forged }),
      });
      await publisher.events(names.queue, [
        // Google, US: the forged enrichment claims Australia and must not make the rule fire.
        login('8.8.8.8', 'pi-1', T0, { ip: { address: '8.8.8.8', scope: 'public', country: 'AU' } }),
        // A LAN address: private, no country, so neither rule fires.
        login('192.168.1.150', 'pi-1', T0 + 1000),
        // Cloudflare, AU, with a forged enrichment claiming the US and another owner: the real one wins.
        login('1.1.1.1', 'pi-1.lan', T0 + 2000, { ip: { address: '1.1.1.1', scope: 'public', country: 'US' }, host: { name: 'pi-1', owner: 'mallory' } }),
      ]);
      await waitFor(() => (alerts.alerts.length >= 3 ? true : undefined), 20_000, 'three alerts');
      // Give a wrongly fired alert for the forged event the time to arrive too.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const byRule = new Map<string, typeof alerts.alerts>();
      for (const alert of alerts.alerts) byRule.set(alert.analysis_rule!.rule_id!, [...(byRule.get(alert.analysis_rule!.rule_id!) ?? []), alert]);

      const au = byRule.get('TEST-ENR-001') ?? [];
      assert.equal(au.length, 1, 'only the Cloudflare login is from AU');
      const alert = au[0]!;
      assert.deepEqual(alert.enrichment, { ip: CLOUDFLARE, host: PI_1 });
      assert.deepEqual((alert.raw_event_data as { enrichment?: unknown }).enrichment, { ip: CLOUDFLARE, host: PI_1 }, 'the stored event carries it too');
      assert.deepEqual(alert.group_key, { 'enrichment.ip.country': 'AU', server_hostname: 'pi-1.lan' });
      assert.equal(alert.description, "Login by 'app_user' on 'pi-1.lan' from 1.1.1.1 (AS13335, Cloudflare, Inc.), host owned by alice.");

      const server = byRule.get('TEST-ENR-002') ?? [];
      assert.deepEqual(server.map((a) => a.triggered_by?.client_ip).sort(), ['1.1.1.1', '8.8.8.8'], 'public logins to the k3s server, not the LAN one');
      const google = server.find((a) => a.triggered_by?.client_ip === '8.8.8.8')!;
      assert.deepEqual(google.enrichment?.ip, { address: '8.8.8.8', scope: 'public', country: 'US', asn: 15169, as_org: 'Google LLC' });

      const metrics = await analysis.handle.registry.metrics();
      assert.match(metrics, /audit_analysis_enrichment_cache_total\{result="miss",service="audit-log-analysis"\} 3/);
      assert.match(metrics, /audit_analysis_enrichment_lookups_total\{database="country",service="audit-log-analysis"\} 2/);
      assert.match(metrics, /audit_analysis_enrichment_hosts_total\{result="known",service="audit-log-analysis"\} 3/);
      assert.match(metrics, /audit_analysis_enrichment_database_info\{database="asn",format="csv",build_date="\d{4}-\d{2}-\d{2}",service="audit-log-analysis"\} 1/);
    } finally {
      await alerts.close();
      await analysis.stop();
    }
  });
});
