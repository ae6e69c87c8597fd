#!/usr/bin/env node
// `npm run bench`: every benchmark of the repository, one after the other, so
// they do not compete for the two cores. Benchmarks are not tests: each prints
// its figures and a ratio against a baseline measured in the same run.
// Pass names to run a subset: npm run bench -- analysis api
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const node = `${root}node_modules/.bin/node`;

const benches = [
  { name: 'analysis', file: 'src/audit-log-analysis/bench/drain.bench.ts', about: 'analysis drain rate vs a raw consumer' },
  { name: 'rules', file: 'src/audit-log-analysis/bench/rule-scaling.bench.ts', about: 'per-event cost with 21, 50 and 200 rules, and without the rule index' },
  { name: 'enrichment', file: 'src/audit-log-analysis/bench/enrichment.bench.ts', about: 'memory of the enrichment databases (each, both) and the engine rate with enrichment vs without' },
  { name: 'updates', file: 'src/audit-log-analysis/bench/update-volume.bench.ts', about: 'alert messages per event with 100 busy user/host pairs' },
  { name: 'first-seen', file: 'src/audit-log-analysis/bench/first-seen-memory.bench.ts', about: 'Redis bytes per value a first_seen rule keeps (MEMORY USAGE)' },
  { name: 'footprint', file: 'tests/memory/footprint.bench.ts', about: 'peak memory of each service started the documented ways, in a cgroup at its chart limit; the all-in-one npm start' },
  { name: 'ingest', file: 'src/notification-service/bench/ingest.bench.ts', about: 'notification ingest alerts/s' },
  { name: 'audit-ingest', file: 'src/audit-ingest/bench/ingest.bench.ts', about: 'syslog lines/s and audit events/s into RabbitMQ vs raw publishes' },
  { name: 'api', file: 'src/notification-service/bench/api.bench.ts', about: 'GET /alerts at 1,000,000 rows' },
  { name: 'delivery', file: 'src/notification-service/bench/delivery.bench.ts', about: 'outbox deliveries/s vs the receiver raw rate' },
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !benches.some((bench) => bench.name === name));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${benches.map((b) => b.name).join(', ')}`);
  process.exit(64);
}

let failed = 0;
for (const bench of benches) {
  if (wanted.length > 0 && !wanted.includes(bench.name)) continue;
  console.log(`\n=== ${bench.name}: ${bench.about} (${bench.file})`);
  const result = spawnSync(node, ['--conditions=source', bench.file], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.error(`=== ${bench.name} exited with ${result.status ?? result.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
