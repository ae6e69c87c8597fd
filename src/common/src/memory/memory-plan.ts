import { type CgroupLimit, readCgroupMemoryLimit } from './cgroup-limit.ts';
import { type MemoryProfileName, SERVICE_MEMORY_LIMIT_MIB } from './service-memory.ts';

export interface MemoryPlan {
  profile: MemoryProfileName;
  /** The budget the flags are computed for. */
  limitMiB: number;
  /** cgroup (the limit found), MEMORY_LIMIT_MIB, or default (the table in service-memory.ts). */
  limitSource: 'cgroup' | 'MEMORY_LIMIT_MIB' | 'default';
  oldSpaceMiB: number;
  semiSpaceMiB: number;
  mallocArenaMax: number;
}

const MIB = 1024 * 1024;

/**
 * Heap sizes for a memory budget. Measured on the analysis drain and the
 * notification benches: a Node 24 service holds 45-60 MiB outside the V8
 * heap (code, ICU, TLS, sockets, buffers), the young generation takes three
 * semi-spaces, and the old space collects well before it reaches its cap, so
 * 3/8 of the budget for old space leaves the rest for everything else with
 * room for a GC's transient growth. Small budgets get small semi-spaces: 4 MiB
 * instead of V8's 16 took 10-15 MiB off the peak RSS at no measurable cost.
 */
export function planMemory(profile: MemoryProfileName, limitMiB: number, limitSource: MemoryPlan['limitSource']): MemoryPlan {
  const oldSpaceMiB = Math.max(32, Math.floor((limitMiB * 3) / 8));
  const semiSpaceMiB = Math.min(16, Math.max(2, Math.floor(limitMiB / 64)));
  // Every V8 helper thread otherwise gets its own glibc arena (64 MiB of address space, some of it touched).
  const mallocArenaMax = limitMiB <= 1024 ? 2 : 4;
  return { profile, limitMiB, limitSource, oldSpaceMiB, semiSpaceMiB, mallocArenaMax };
}

/**
 * The budget a service runs under: the cgroup limit it finds (what the
 * kubelet or `docker run -m` set), lowered by MEMORY_LIMIT_MIB when that is
 * set; without a cgroup limit, MEMORY_LIMIT_MIB or the chart's limit, so a
 * laptop's `npm start` behaves as the pod does.
 */
export function resolveMemoryPlan(
  profile: MemoryProfileName,
  env: Readonly<Record<string, string | undefined>>,
  cgroup: CgroupLimit | undefined = readCgroupMemoryLimit(),
): MemoryPlan {
  const configured = parseLimit(env['MEMORY_LIMIT_MIB']);
  const found = cgroup === undefined ? undefined : Math.floor(cgroup.bytes / MIB);
  if (found !== undefined && (configured === undefined || found <= configured)) return planMemory(profile, found, 'cgroup');
  if (configured !== undefined) return planMemory(profile, configured, 'MEMORY_LIMIT_MIB');
  return planMemory(profile, SERVICE_MEMORY_LIMIT_MIB[profile], 'default');
}

/** MEMORY_LIMIT_MIB: a whole number of MiB, 64 to 65536. */
export function parseLimit(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 64 || value > 65_536) {
    throw new RangeError(`MEMORY_LIMIT_MIB must be a whole number of MiB from 64 to 65536, got "${text}"`);
  }
  return value;
}

export function nodeFlagsOf(plan: MemoryPlan): string[] {
  return [`--max-old-space-size=${plan.oldSpaceMiB}`, `--max-semi-space-size=${plan.semiSpaceMiB}`];
}
