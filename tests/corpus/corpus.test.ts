import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AmqpBroker } from '@auditflow/common';
import pg from 'pg';
import { cleanup, type RunningAnalysis, startTestAnalysis, testNames } from '../../src/audit-log-analysis/test/integration-support.ts';
import { DEFAULT_RULES_FILE } from '../../src/audit-log-analysis/src/rules/rules-file.ts';
import { rfc3164, rfc5424, octetCounted } from '../../src/audit-ingest/test/samples.ts';
import { type RunningIngest, sendTcp, startTestIngest } from '../../src/audit-ingest/test/support.ts';
import { loadNotificationConfig } from '../../src/notification-service/src/config.ts';
import { PostgresClient } from '../../src/notification-service/src/db/postgres-client.ts';
import { type NotificationServiceHandle, startNotificationService } from '../../src/notification-service/src/service.ts';
import { SqlAlertStore } from '../../src/notification-service/src/store/sql-alert-store.ts';
import { RABBITMQ_URL, silentLogger, waitFor } from '../../src/common/test/support.ts';
import { createTestDatabase } from '../support/databases.ts';
import { expandCorpus, loadCorpus, type Variant } from './corpus.ts';

/**
 * The labelled corpus through the product as deployed: syslog over TCP in
 * both header formats, journald JSON and Kubernetes audit webhooks (EventList
 * and NDJSON) into audit-ingest's real listeners, the real RabbitMQ, an
 * analysis on the real Redis with the default rules plus the example Sigma
 * rules (a rules directory), and the notification service storing alerts in
 * a PostgreSQL database of its own. Every stored alert is attributed to the
 * case variant that caused it; each rule must reach 100% recall and 100%
 * precision, and benign look-alikes must stay silent.
 */
const SIGMA_DIR = join(import.meta.dirname, '..', '..', 'src', 'audit-log-analysis', 'rules', 'sigma-examples');

interface StoredAlert {
  alert_id: string;
  rule_id: string;
  count: number;
  description: string;
  server_hostname: string | null;
  raw_event_data: { server_hostname?: string; details?: { audit_id?: string } };
}

describe('labelled corpus through the real listeners into stored alerts', { timeout: 240_000 }, () => {
  const run = randomUUID().slice(0, 8);
  const names = testNames(`corpus-${run}`);
  const rulesDir = mkdtempSync(join(tmpdir(), 'af-corpus-rules-'));
  const cases = loadCorpus();
  const now = Date.now() - 60_000;
  const variants = expandCorpus(cases, run, now);
  let database: { url: string; drop: () => Promise<void> };
  let analysis: RunningAnalysis;
  let ingest: RunningIngest;
  let notification: NotificationServiceHandle;
  let notificationBroker: AmqpBroker;
  let alerts: StoredAlert[] = [];
  const answers: { tag: string; status: number; body: unknown }[] = [];

  before(async () => {
    copyFileSync(DEFAULT_RULES_FILE, join(rulesDir, 'default.yaml'));
    for (const name of readdirSync(SIGMA_DIR)) copyFileSync(join(SIGMA_DIR, name), join(rulesDir, name));
    database = await createTestDatabase(`test_corpus_${run}`);
    const client = new PostgresClient({ url: database.url, poolMax: 4, applicationName: 'corpus-test', logger: silentLogger });
    const store = await SqlAlertStore.open(client, silentLogger);
    await store.migrate();
    notificationBroker = new AmqpBroker({ url: RABBITMQ_URL, logger: silentLogger, connectionName: 'corpus-notification', queueType: 'quorum' });
    notification = await startNotificationService({
      config: loadNotificationConfig({ API_PORT: '0', API_HOST: '127.0.0.1', RABBITMQ_ALERT_QUEUE: names.alertQueue, LOG_LEVEL: 'silent' }),
      logger: silentLogger,
      broker: notificationBroker,
      store,
      tokens: [{ token: randomUUID(), name: 'corpus', scopes: ['read'] }],
    });
    analysis = await startTestAnalysis(names, { RULES_FILE: rulesDir });
    ingest = await startTestIngest(names);

    const at = (_variant: Variant, line: number) => new Date(now + line * 1000);
    const syslog = ingest.handle.syslog!;
    const of = (format: string) => variants.filter((v) => v.format === format);
    // RFC 3164 with newline framing (rsyslog's traditional forward), RFC 5424 octet-counted (RFC 6587).
    await sendTcp(syslog.tcpPort, of('rfc3164').flatMap((v) => v.lines!.map((l, i) => `${rfc3164({ ...l, pri: 86 }, v.host!, at(v, i))}\n`)).join(''));
    await sendTcp(syslog.tcpPort, of('rfc5424').flatMap((v) => v.lines!.map((l, i) => octetCounted(rfc5424({ ...l, pri: 86 }, v.host!, at(v, i))))).join(''));
    const http = ingest.handle.urls['http'];
    let cursor = 0;
    for (const v of of('journald')) {
      const body = v.lines!.map((l, i) =>
        JSON.stringify({
          __CURSOR: `s=${run};i=${(++cursor).toString(16)};b=corpus`,
          __REALTIME_TIMESTAMP: String(at(v, i).getTime() * 1000),
          _HOSTNAME: v.host,
          SYSLOG_IDENTIFIER: l.program,
          _PID: String(l.pid),
          PRIORITY: '6',
          SYSLOG_FACILITY: '10',
          _TRANSPORT: 'syslog',
          MESSAGE: l.message,
        }),
      );
      answers.push(await post(`${http}/journald`, 'application/x-ndjson', `${body.join('\n')}\n`, v.tag));
    }
    for (const v of of('eventlist')) {
      const apiVersion = (v.events![0]!['apiVersion'] as string) ?? 'audit.k8s.io/v1';
      answers.push(await post(`${http}/k8s/audit`, 'application/json', JSON.stringify({ kind: 'EventList', apiVersion, metadata: {}, items: v.events }), v.tag));
    }
    for (const v of of('ndjson')) {
      answers.push(await post(`${http}/k8s/audit`, 'application/x-ndjson', `${v.events!.map((e) => JSON.stringify(e)).join('\n')}\n`, v.tag));
    }

    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const read = async () =>
        (await db.query<StoredAlert>('SELECT alert_id, rule_id, count, description, server_hostname, raw_event_data FROM alerts')).rows;
      const expectedTotal = variants.reduce((sum, v) => sum + v.case.expect.length, 0);
      await waitFor(async () => ((await read()).length >= expectedTotal ? true : undefined), 120_000, `${expectedTotal} stored alerts`).catch(() => undefined);
      // Room for any unexpected alert (or a late count update) to be stored before judging.
      let previous = -1;
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 2000));
        alerts = await read();
        const signature = alerts.reduce((sum, a) => sum + a.count, alerts.length * 1000);
        if (signature === previous) break;
        previous = signature;
      }
    } finally {
      await db.end();
    }
  });

  after(async () => {
    await ingest?.stop();
    await analysis?.stop();
    await notification?.stop();
    await notificationBroker?.close();
    await cleanup(names);
    await database?.drop();
    rmSync(rulesDir, { recursive: true, force: true });
  });

  test('every record was accepted by the listeners (nothing dead-lettered)', () => {
    for (const answer of answers) {
      assert.equal(answer.status, 200, `${answer.tag}: ${JSON.stringify(answer.body)}`);
      assert.equal((answer.body as { dead_lettered: number }).dead_lettered, 0, `${answer.tag}: ${JSON.stringify(answer.body)}`);
    }
  });

  test('100% recall and 100% precision per rule, benign look-alikes silent', () => {
    const byTag = new Map(variants.map((v) => [v.tag, v] as const));
    const byHost = new Map(variants.filter((v) => v.host).map((v) => [v.host!, v] as const));
    const byAuditId = new Map(variants.flatMap((v) => [...(v.auditIds ?? [])].map((id) => [id, v] as const)));
    const raised = new Map<string, StoredAlert[]>();
    const unattributed: StoredAlert[] = [];
    for (const alert of alerts) {
      const variant = byHost.get(alert.raw_event_data.server_hostname ?? '') ?? byAuditId.get(alert.raw_event_data.details?.audit_id ?? '');
      if (!variant) unattributed.push(alert);
      else raised.set(variant.tag, [...(raised.get(variant.tag) ?? []), alert]);
    }
    const rules = new Set([...variants.flatMap((v) => v.case.expect), ...alerts.map((a) => a.rule_id)]);
    const score = new Map<string, { tp: number; fn: number; fp: number }>([...rules].map((rule) => [rule, { tp: 0, fn: 0, fp: 0 }]));
    const problems: string[] = [];
    for (const [tag, variant] of byTag) {
      const got = raised.get(tag) ?? [];
      for (const rule of new Set([...variant.case.expect, ...got.map((a) => a.rule_id)])) {
        const expected = variant.case.expect.filter((r) => r === rule).length;
        const actual = got.filter((a) => a.rule_id === rule).length;
        const s = score.get(rule)!;
        s.tp += Math.min(expected, actual);
        s.fn += Math.max(0, expected - actual);
        s.fp += Math.max(0, actual - expected);
        if (expected !== actual) problems.push(`${variant.case.id} (${variant.format}): ${rule} raised ${actual}, expected ${expected}`);
      }
      for (const [rule, count] of Object.entries(variant.case.counts ?? {})) {
        const alert = got.find((a) => a.rule_id === rule);
        if (alert && alert.count !== count) problems.push(`${variant.case.id} (${variant.format}): ${rule} count ${alert.count}, expected ${count}`);
      }
    }
    for (const alert of unattributed) {
      score.get(alert.rule_id)!.fp++;
      problems.push(`alert ${alert.rule_id} not from any corpus case: ${alert.description}`);
    }
    const table = [...score.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([rule, s]) => {
        const recall = s.tp + s.fn === 0 ? 'n/a' : `${((100 * s.tp) / (s.tp + s.fn)).toFixed(1)}%`;
        const precision = s.tp + s.fp === 0 ? 'n/a' : `${((100 * s.tp) / (s.tp + s.fp)).toFixed(1)}%`;
        return `${rule.padEnd(38)} tp=${String(s.tp).padStart(3)} fn=${String(s.fn).padStart(2)} fp=${String(s.fp).padStart(2)} recall=${recall.padStart(6)} precision=${precision.padStart(6)}`;
      });
    const attacks = variants.filter((v) => v.case.label === 'attack').length;
    const benign = variants.length - attacks;
    console.log(`corpus: ${cases.length} cases, ${variants.length} variants (${attacks} attack, ${benign} benign), ${alerts.length} stored alerts\n${table.join('\n')}`);
    assert.deepEqual(problems, []);
    assert.ok(score.size >= 20, 'the corpus exercises the rules');
  });

  test("no alert text names an empty pod (controller-created pods have no name in their create request)", () => {
    const pods = alerts.filter((alert) => alert.rule_id === 'ANLY-SRC-014');
    assert.ok(pods.length >= 4);
    for (const alert of pods) assert.doesNotMatch(alert.description, /pod ''/, alert.description);
  });
});

async function post(url: string, type: string, body: string, tag: string): Promise<{ tag: string; status: number; body: unknown }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
  return { tag, status: response.status, body: await response.json() };
}
