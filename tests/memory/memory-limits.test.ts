/**
 * Self-set memory (issue 21): every service sizes its heap from the cgroup
 * limit it finds, or from the chart's limit when there is none, and drains a
 * 30,000-message backlog inside a real memory cgroup as tight as its chart
 * limit, started the way the README documents, without an OOM kill.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { parse } from 'yaml';
import { readCgroupMemoryLimit } from '../../src/common/src/memory/cgroup-limit.ts';
import { resolveMemoryPlan } from '../../src/common/src/memory/memory-plan.ts';
import { SERVICE_MEMORY_LIMIT_MIB } from '../../src/common/src/memory/service-memory.ts';
import { cgroupsAvailable, createMemoryCgroup } from '../support/cgroup.ts';
import { drainUnderLimit, type DrainedService } from '../support/memory-drain.ts';
import { REPO_ROOT, track } from '../support/processes.ts';

const CHART = `${REPO_ROOT}k8s/charts/auditflow-platform/charts`;
const SERVICES = ['audit-event-generator', 'audit-log-analysis', 'notification-service', 'event-audit-dashboard', 'audit-ingest'] as const;

test("each subchart's memory limit is the service's declared budget (one home: src/common/src/memory/service-memory.ts)", () => {
  for (const service of SERVICES) {
    const values = parse(readFileSync(`${CHART}/${service}/values.yaml`, 'utf8')) as { resources: { limits: { memory: string } } };
    assert.equal(values.resources.limits.memory, `${SERVICE_MEMORY_LIMIT_MIB[service]}Mi`, service);
  }
});

function fakeFs(files: Record<string, string>) {
  return { read: (path: string) => files[path] };
}

test('the cgroup limit: v2 memory.max, the smallest on the way up; v1 limit_in_bytes; "max" and v1 "unlimited" are no limit', () => {
  const v2 = fakeFs({
    '/proc/self/cgroup': '0::/kubepods/burstable/pod1/ctr\n',
    '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory pids',
    '/sys/fs/cgroup/kubepods/burstable/pod1/ctr/memory.max': 'max\n',
    '/sys/fs/cgroup/kubepods/burstable/pod1/memory.max': String(192 * 1048576),
    '/sys/fs/cgroup/kubepods/memory.max': String(8 * 1024 * 1048576),
  });
  assert.deepEqual(readCgroupMemoryLimit(v2), { bytes: 192 * 1048576, source: '/sys/fs/cgroup/kubepods/burstable/pod1/memory.max' });
  const namespaced = fakeFs({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cgroup.controllers': 'memory', '/sys/fs/cgroup/memory.max': '268435456' });
  assert.equal(readCgroupMemoryLimit(namespaced)?.bytes, 268435456);
  const v1 = fakeFs({
    '/proc/self/cgroup': '5:cpu,cpuacct:/x\n4:memory:/docker/abc\n0::/\n',
    '/sys/fs/cgroup/unified/cgroup.controllers': '',
    '/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes': '201326592',
    '/sys/fs/cgroup/memory/memory.limit_in_bytes': '9223372036854771712',
  });
  assert.equal(readCgroupMemoryLimit(v1)?.bytes, 201326592);
  const none = fakeFs({ '/proc/self/cgroup': '0::/user.slice\n', '/sys/fs/cgroup/cgroup.controllers': 'memory', '/sys/fs/cgroup/user.slice/memory.max': 'max' });
  assert.equal(readCgroupMemoryLimit(none), undefined);
});

test('the plan: the cgroup limit wins, MEMORY_LIMIT_MIB may only lower it, the chart limit without either', () => {
  const cgroup = { bytes: 320 * 1048576, source: 'x' };
  assert.deepEqual(
    [resolveMemoryPlan('audit-log-analysis', {}, cgroup), resolveMemoryPlan('audit-log-analysis', { MEMORY_LIMIT_MIB: '200' }, cgroup)].map((p) => [p.limitMiB, p.limitSource]),
    [[320, 'cgroup'], [200, 'MEMORY_LIMIT_MIB']],
  );
  const plain = resolveMemoryPlan('audit-ingest', {}, undefined);
  assert.deepEqual([plain.limitMiB, plain.limitSource, plain.oldSpaceMiB, plain.semiSpaceMiB, plain.mallocArenaMax], [192, 'default', 72, 3, 2]);
  assert.throws(() => resolveMemoryPlan('audit-ingest', { MEMORY_LIMIT_MIB: '12' }, undefined), /MEMORY_LIMIT_MIB must be/);
});

const skipCgroups = cgroupsAvailable() ? false : 'needs root and a memory cgroup hierarchy (CI runs as root)';

test('a service started in a 200 MiB cgroup finds the limit and re-executes itself with the heap for it', { skip: skipCgroups }, async () => {
  const cgroup = createMemoryCgroup(200);
  try {
    const script = [
      "import { sizeMemory } from '@auditflow/common/memory/self-size';",
      "import { getHeapStatistics } from 'node:v8';",
      "const plan = sizeMemory('audit-log-analysis');",
      'console.log(JSON.stringify({ pid: process.pid, plan, arenas: process.env.MALLOC_ARENA_MAX, execArgv: process.execArgv, heap: getHeapStatistics().heap_size_limit }));',
    ].join('\n');
    const run = track(
      cgroup.spawn(`${REPO_ROOT}node_modules/.bin/node`, ['--conditions=source', '--input-type=module', '-e', script], {
        cwd: `${REPO_ROOT}src/audit-log-analysis`,
        env: { PATH: process.env['PATH'] ?? '' },
      }),
    );
    const code = await new Promise((resolve) => run.child.once('close', resolve));
    assert.equal(code, 0, run.output());
    assert.doesNotMatch(run.output(), /Warning/, 'no experimental-feature warning ahead of the logs');
    const report = JSON.parse(run.output().trim().split('\n').at(-1)!);
    assert.equal(report.pid, run.child.pid, 'execve keeps the pid: no wrapper process');
    assert.deepEqual([report.plan.limitMiB, report.plan.limitSource, report.plan.applied], [200, 'cgroup', true]);
    assert.ok(report.execArgv.includes('--max-old-space-size=75'), report.execArgv.join(' '));
    assert.equal(report.arenas, '2');
    assert.ok(report.heap < 120 * 1048576, `heap limit ${report.heap}`);
  } finally {
    cgroup.remove();
  }
});

test('a service in a 200 MiB cgroup exports that limit as auditflow_memory_limit_bytes (what AuditFlowHighMemory divides by)', { skip: skipCgroups }, async () => {
  const cgroup = createMemoryCgroup(200);
  try {
    const script = [
      "import { createRegistry } from '@auditflow/common';",
      "console.log(await createRegistry('audit-ingest').metrics());",
    ].join('\n');
    const run = track(
      cgroup.spawn(`${REPO_ROOT}node_modules/.bin/node`, ['--conditions=source', '--input-type=module', '-e', script], {
        cwd: `${REPO_ROOT}src/audit-ingest`,
        env: { PATH: process.env['PATH'] ?? '' },
      }),
    );
    const code = await new Promise((resolve) => run.child.once('close', resolve));
    assert.equal(code, 0, run.output());
    assert.match(run.output(), /^auditflow_memory_limit_bytes\{service="audit-ingest"\} 209715200$/m);
  } finally {
    cgroup.remove();
  }
});

before(() => {
  // `npm start --workspace` runs dist/: build what the drains start (incremental, quick when up to date).
  execFileSync(`${REPO_ROOT}node_modules/.bin/tsc`, ['-b', 'tsconfig.build.json'], { cwd: REPO_ROOT, stdio: 'inherit' });
});

const drains: [DrainedService, 'npm-workspace' | 'image'][] = [
  ['audit-log-analysis', 'npm-workspace'],
  ['notification-service', 'npm-workspace'],
  ['audit-ingest', 'npm-workspace'],
  ['audit-ingest', 'image'],
];
for (const [service, way] of drains) {
  const limit = SERVICE_MEMORY_LIMIT_MIB[service];
  test(`${service} started by ${way === 'image' ? "the image's command" : 'npm start --workspace'} drains 30,000 messages inside a ${limit} MiB cgroup without an OOM kill`, { skip: skipCgroups }, async () => {
    const result = await drainUnderLimit({ service, way, limitMiB: limit });
    console.log(
      `${service} (${way}): ${result.drained}/${result.total} in ${result.seconds.toFixed(1)} s, cgroup peak ${result.cgroupPeakMiB.toFixed(1)} MiB, node VmHWM ${result.servicePeakMiB.toFixed(1)} MiB of ${limit} MiB, OOM kills ${result.oomKills}`,
    );
    assert.equal(result.oomKills, 0, `OOM-killed inside ${limit} MiB\n${result.output.slice(-3000)}`);
    assert.equal(result.drained, result.total, `backlog not drained\n${result.output.slice(-3000)}`);
    assert.ok(result.cgroupPeakMiB <= limit);
  });
}
