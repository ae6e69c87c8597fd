/**
 * Footprint benchmark (not a test): the peak memory of each service started
 * the ways the README documents, draining a 30,000-message backlog inside a
 * memory cgroup as tight as its chart limit, and of the all-in-one
 * `npm start` (real RabbitMQ, Redis and PostgreSQL) against 256 MiB. The
 * peak is the cgroup's (what the limit counts: the service, and npm when npm
 * started it); the node process's VmHWM is shown beside it.
 *
 *   npm run bench -- footprint        (BENCH_MEMORY_EVENTS=... to change the size)
 */
import { SERVICE_MEMORY_LIMIT_MIB } from '../../src/common/src/memory/service-memory.ts';
import { cgroupsAvailable } from '../support/cgroup.ts';
import { type DrainedService, drainUnderLimit, type StartWay } from '../support/memory-drain.ts';

const TOTAL = Number(process.env['BENCH_MEMORY_EVENTS'] ?? 30_000);
const RUNS: [DrainedService, StartWay][] = [
  ['audit-log-analysis', 'npm-workspace'],
  ['audit-log-analysis', 'image'],
  ['notification-service', 'npm-workspace'],
  ['notification-service', 'image'],
  ['audit-ingest', 'npm-workspace'],
  ['audit-ingest', 'image'],
  ['audit-log-analysis', 'only'],
  ['auditflow', 'npm-start'],
];

if (!cgroupsAvailable()) {
  console.log('MISSED footprint: needs root and a memory cgroup hierarchy to measure under the chart limits');
  process.exit(0);
}
const wanted = (process.env['BENCH_FOOTPRINT'] ?? '').split(',').filter(Boolean);
for (const [service, way] of RUNS) {
  if (wanted.length > 0 && !wanted.includes(`${service}:${way}`)) continue;
  const limit = SERVICE_MEMORY_LIMIT_MIB[service];
  const result = await drainUnderLimit({ service, way, limitMiB: limit, total: TOTAL });
  const met = result.oomKills === 0 && result.drained === result.total && result.cgroupPeakMiB <= limit;
  const name = service === 'auditflow' ? 'all-in-one npm start' : `${service} (${way})`;
  console.log(
    `${met ? 'MET   ' : 'MISSED'} peak memory ${name}: ${result.cgroupPeakMiB.toFixed(1)} MiB cgroup peak (node VmHWM ${result.servicePeakMiB.toFixed(1)} MiB) <= ${limit} MiB limit; drained ${result.drained}/${result.total} in ${result.seconds.toFixed(1)} s, OOM kills ${result.oomKills}`,
  );
  if (!met) console.log(result.output.slice(-2000));
}
