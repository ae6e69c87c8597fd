/**
 * What a silence regex costs while the API annotates alerts, the ReDoS
 * silence `host=~(a+)+$` against hosts an attacker chose (`a`×28 + `!`) next
 * to a normal silence `host=~web-\d+`, both read from a real PostgreSQL
 * schema by the service's own SilenceAnnotator (the path of GET /alerts).
 * Prints µs per annotated alert and the ratio ReDoS / normal.
 *   node --conditions=source src/notification-service/bench/silence-regex.bench.ts [alerts]
 * For scale it also times one match of the same pattern on V8's backtracking
 * RegExp at a shorter host (`a`×22 + `!`); each extra `a` doubles that.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { PostgresClient } from '../src/db/postgres-client.ts';
import { SilenceAnnotator } from '../src/silences/silence-annotator.ts';
import { SqlAlertStore } from '../src/store/sql-alert-store.ts';
import { round, schemaUrl, uniqueSchema, withAdmin } from './bench-support.ts';

const ALERTS = Number(process.argv[2] ?? 20_000);
const HOSTILE_HOST = `${'a'.repeat(28)}!`;
const logger = pino({ level: 'silent' });
const schema = uniqueSchema('bench_silence');

function alertJson(host: string, i: number): string {
  return JSON.stringify({
    alert_id: randomUUID(),
    alert_name: 'Multiple Failed Login Attempts',
    severity: 'CRITICAL',
    rule_id: 'ANLY-SEC-001',
    server_hostname: host,
    actor_id: `user-${i % 50}`,
    metadata: { environment: 'bench' },
  });
}

async function costPerAlert(store: SqlAlertStore, pattern: string, hosts: string[]): Promise<number> {
  await store.silences.create({
    id: randomUUID(),
    matchers: [{ name: 'host', value: pattern, isRegex: true, isEqual: true }],
    createdBy: 'bench',
    comment: 'bench',
    startsAt: new Date(Date.now() - 1000),
    endsAt: new Date(Date.now() + 3_600_000),
  });
  const annotator = new SilenceAnnotator(store.silences, 3_600_000);
  await annotator.refresh();
  const rows = hosts.map(alertJson);
  for (const row of rows.slice(0, 500)) annotator.annotate(row); // warm-up
  const started = process.hrtime.bigint();
  let silenced = 0;
  for (const row of rows) if (annotator.annotate(row).includes('"silenced":true')) silenced++;
  const micros = Number(process.hrtime.bigint() - started) / 1000 / rows.length;
  await store.silences.expire(JSON.parse((await store.silences.list('active'))[0]!).id);
  console.log(`  host=~${pattern.padEnd(10)} ${round(micros, 2)} µs per alert (${silenced} of ${rows.length} silenced)`);
  return micros;
}

await withAdmin((client) => client.query(`CREATE SCHEMA ${schema}`));
const client = new PostgresClient({ url: schemaUrl(schema), poolMax: 2, applicationName: schema, logger });
try {
  const store = await SqlAlertStore.open(client, logger);
  await store.migrate();
  console.log(`${ALERTS} alerts annotated against one silence in force (RE2 engine):`);
  const normalHosts = Array.from({ length: ALERTS }, (_, i) => (i % 2 === 0 ? `web-${i}` : `db-${i}`));
  const hostileHosts = Array.from({ length: ALERTS }, (_, i) => (i % 2 === 0 ? HOSTILE_HOST : 'a'.repeat(28)));
  const normal = await costPerAlert(store, 'web-\\d+', normalHosts);
  const redos = await costPerAlert(store, '(a+)+$', hostileHosts);
  console.log(`ratio ReDoS / normal silence: ${round(redos / normal, 2)}`);
  const backtracking = /^(?:(a+)+$)$/u;
  const started = performance.now();
  backtracking.test(`${'a'.repeat(22)}!`);
  console.log(`for scale, V8's backtracking RegExp on a×22+! once: ${round(performance.now() - started, 1)} ms (×64 at a×28)`);
} finally {
  await client.close();
  await withAdmin((admin) => admin.query(`DROP SCHEMA ${schema} CASCADE`));
}
