/**
 * Read API under load at scale: 1,000,000 alerts are generated in a unique
 * schema with one set-based INSERT ... SELECT generate_series per chunk, one
 * notification-service process serves them, and a separate load-generator
 * process drives GET /alerts?limit=30 (unfiltered and filtered) over
 * keep-alive connections. Prints req/s, p50, p99 and the service's RSS.
 *   node --conditions=source src/notification-service/bench/api.bench.ts [rows] [seconds] [concurrency]
 *
 * The load generator is wrk when it is installed (apt-get install wrk), else
 * http-load.ts; BENCH_LOADGEN=node|wrk forces one. On 2 cores it shares the CPU
 * with the service and PostgreSQL, so the cheaper it is per request, the more of
 * the machine measures the service: per request wrk takes ~20 µs of CPU and
 * http-load.ts ~30 µs, where the node:http generator it replaced took 60-85 µs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { runMigrations } from '../src/db/migrations.ts';
import { PostgresClient } from '../src/db/postgres-client.ts';
import {
  RABBITMQ_URL,
  round,
  rssMiB,
  schemaUrl,
  serviceCommand,
  startServiceProcess,
  uniqueSchema,
  withAdmin,
} from './bench-support.ts';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const SECONDS = Number(process.argv[3] ?? 10);
const CONCURRENCY = Number(process.argv[4] ?? 16);
const CHUNK = 100_000;
const LOAD = fileURLToPath(new URL('./http-load.ts', import.meta.url));
const WRK_REPORT = fileURLToPath(new URL('./wrk-report.lua', import.meta.url));
const LOAD_GENERATOR = pickLoadGenerator();
const schema = uniqueSchema('bench_api');
const queue = `bench-api-${randomUUID().slice(0, 8)}`;

const GENERATE = `
INSERT INTO alerts (alert_id, correlation_id, "timestamp", alert_name, alert_type, severity, description,
  source_service_name, rule_id, rule_name, actor_type, actor_id, client_ip, resource_type, resource_id,
  server_hostname, action_observed, analysis_rule_details, triggered_by_details, impacted_resource_details,
  metadata, raw_event_data, count, first_seen, last_seen, fingerprint, group_key)
SELECT md5('a' || g)::uuid, md5('c' || g)::uuid, x.ts,
  CASE WHEN g % 3 = 0 THEN 'Sensitive File Modification Detected' ELSE 'Multiple Failed Login Attempts' END,
  'SECURITY', (ARRAY['CRITICAL', 'WARNING', 'INFO', 'CRITICAL'])[1 + g % 4],
  '3 or more failed login attempts for user ''' || x.usr || ''' on ''' || x.host || ''' within 60 seconds.',
  'audit-event-generator',
  CASE WHEN g % 3 = 0 THEN 'ANLY-SEC-002' ELSE 'ANLY-SEC-001' END,
  CASE WHEN g % 3 = 0 THEN 'Sensitive File Modification Detection' ELSE 'Failed Login Burst Detection' END,
  'USER', x.usr, ('192.168.1.' || (100 + g % 100))::inet, 'SERVER', x.host, x.host,
  CASE WHEN g % 3 = 0 THEN 'FILE_MODIFIED' ELSE 'LOGIN_FAILURE' END,
  jsonb_build_object('rule_id', 'ANLY-SEC-001', 'rule_name', 'Failed Login Burst Detection'),
  jsonb_build_object('actor_type', 'USER', 'actor_id', x.usr, 'client_ip', '192.168.1.' || (100 + g % 100)),
  jsonb_build_object('resource_type', 'SERVER', 'resource_id', x.host, 'server_hostname', x.host),
  '{"tags": ["brute-force", "authentication", "critical"], "environment": "bench"}'::jsonb,
  jsonb_build_object('event_id', md5('c' || g)::uuid, 'event_type', 'user_login', 'user_id', x.usr,
    'server_hostname', x.host, 'details', jsonb_build_object('reason', 'Incorrect password', 'protocol', 'ssh')),
  1 + g % 5, x.ts, x.ts, md5('f' || (g % 1000)), jsonb_build_object('user_id', x.usr, 'server_hostname', x.host)
FROM generate_series($1::int, $2::int) AS g,
LATERAL (SELECT (ARRAY['devops_admin', 'app_user', 'guest_user', 'monitoring_agent', 'attacker_bob'])[1 + g % 5] AS usr,
                'prod-web-' || lpad((g % 40)::text, 2, '0') AS host,
                timestamptz '2031-01-01T00:00:00Z' - g * interval '1 second' AS ts) AS x`;

function pickLoadGenerator(): 'wrk' | 'node' {
  const wanted = process.env['BENCH_LOADGEN'];
  if (wanted === 'node' || wanted === 'wrk') return wanted;
  if (wanted !== undefined && wanted !== '') throw new Error(`BENCH_LOADGEN must be node or wrk, not ${wanted}`);
  return spawnSync('wrk', ['-v']).error === undefined ? 'wrk' : 'node';
}

async function load(url: string): Promise<Record<string, number>> {
  const [command, args] =
    LOAD_GENERATOR === 'wrk'
      ? ['wrk', ['-t1', `-c${CONCURRENCY}`, `-d${SECONDS}s`, '--timeout', '10s', '-s', WRK_REPORT, url]]
      : [process.execPath, ['--conditions=source', LOAD, url, String(CONCURRENCY), String(SECONDS)]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((candidate) => candidate.startsWith('{'));
      if (code === 0 && line !== undefined) resolve(JSON.parse(line));
      else reject(new Error(`load generator ${command} exited ${code}: ${out.slice(0, 500)}`));
    });
  });
}

await withAdmin((client) => client.query(`CREATE SCHEMA ${schema}`));
try {
  const logger = pino({ level: 'silent' });
  const migrator = new PostgresClient({ url: schemaUrl(schema), poolMax: 1, applicationName: 'bench-migrate', logger });
  await runMigrations(migrator);
  await migrator.close();
  const loadStarted = performance.now();
  await withAdmin(async (client) => {
    await client.query("SET maintenance_work_mem = '256MB'");
    for (let from = 1; from <= ROWS; from += CHUNK) {
      await client.query(GENERATE, [from, Math.min(ROWS, from + CHUNK - 1)]);
    }
    await client.query('VACUUM ANALYZE alerts');
  }, schemaUrl(schema));
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  const service = await startServiceProcess({ DATABASE_URL: schemaUrl(schema), RABBITMQ_URL, RABBITMQ_ALERT_QUEUE: queue });
  try {
    // The baseline: the same server, HTTP stack and load generator, without the database.
    const scenarios: [string, string][] = [
      ['GET /healthz (baseline, no database)', '/healthz'],
      ['GET /alerts?limit=30', '/alerts?limit=30'],
      ['GET /alerts?limit=30&severity=CRITICAL&host=prod-web-07', '/alerts?limit=30&severity=CRITICAL&host=prod-web-07'],
      ['GET /alerts?limit=30&cursor=<page 100>', ''],
      ['GET /alerts/{id}', `/alerts/${(await (await fetch(`${service.baseUrl}/alerts?limit=1&offset=5000`)).json())[0].alert_id}`],
    ];
    // A deep keyset page: walk 100 pages once to get a cursor far into the table.
    let cursorPath = '/alerts?limit=30';
    for (let i = 0; i < 100; i++) {
      const response = await fetch(`${service.baseUrl}${cursorPath}`);
      cursorPath = `/alerts?limit=30&cursor=${response.headers.get('x-next-cursor')}`;
    }
    scenarios[3]![1] = cursorPath;
    await load(`${service.baseUrl}/alerts?limit=30`); // warm-up: JIT, prepared statements, pool
    const results: Record<string, unknown>[] = [];
    for (const [name, path] of scenarios) {
      const result = await load(`${service.baseUrl}${path}`);
      const memory = rssMiB(service.child.pid!);
      results.push({ scenario: name, ...result, rss_mib: round(memory.rss), peak_rss_mib: round(memory.peak) });
    }
    const baselineRps = Number(results[0]?.['rps'] ?? 0);
    for (const result of results) result['ratio_to_baseline'] = baselineRps > 0 ? round(Number(result['rps'] ?? 0) / baselineRps, 2) : null;
    console.log(
      JSON.stringify({
        benchmark: 'notification read API',
        service_mode: serviceCommand().mode,
        load_generator: LOAD_GENERATOR,
        rows: ROWS,
        load_seconds: round(loadSeconds, 1),
        concurrency: CONCURRENCY,
        seconds_per_scenario: SECONDS,
        results,
        goal: { rps: 3000, p99_ms: 20, rss_mib: 128 },
      }),
    );
  } finally {
    await service.stop();
  }
} finally {
  await withAdmin((client) => client.query(`DROP SCHEMA ${schema} CASCADE`));
  const { Connection } = await import('rabbitmq-client');
  const connection = new Connection(RABBITMQ_URL);
  await connection.queueDelete({ queue }).catch(() => undefined);
  await connection.queueDelete({ queue: `${queue}.dlq` }).catch(() => undefined);
  await connection.close();
}
