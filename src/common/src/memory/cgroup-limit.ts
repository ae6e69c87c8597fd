import { readFileSync } from 'node:fs';
import { posix } from 'node:path';

export interface CgroupLimit {
  bytes: number;
  /** Where it was read, for the start-up log line. */
  source: string;
}

export interface CgroupFs {
  read(path: string): string | undefined;
}

const realFs: CgroupFs = {
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
  },
};

/** cgroup v1 writes "no limit" as a page-rounded 2^63-1; anything this large is no limit. */
const UNLIMITED = 2 ** 60;

/**
 * The memory limit of the cgroup this process runs in, or undefined when
 * there is none. cgroup v2 (`memory.max`) first, then v1
 * (`memory.limit_in_bytes`); the smallest limit on the way up to the root
 * counts, because a parent's limit binds its children too.
 */
export function readCgroupMemoryLimit(fs: CgroupFs = realFs, root = '/sys/fs/cgroup'): CgroupLimit | undefined {
  const membership = fs.read('/proc/self/cgroup');
  if (membership === undefined) return undefined;
  const lines = membership.trim().split('\n');
  // Unified hierarchy: the memory controller is listed at the root of the v2 mount.
  if (fs.read(`${root}/cgroup.controllers`)?.split(/\s+/).includes('memory')) {
    const path = lines.find((line) => line.startsWith('0::'))?.slice(3);
    if (path !== undefined) return smallestOnTheWayUp(fs, root, path, 'memory.max');
  }
  const v1 = lines.find((line) => line.split(':')[1]?.split(',').includes('memory'));
  const path = v1?.split(':').slice(2).join(':');
  if (path === undefined) return undefined;
  return smallestOnTheWayUp(fs, `${root}/memory`, path, 'memory.limit_in_bytes');
}

function smallestOnTheWayUp(fs: CgroupFs, mount: string, path: string, file: string): CgroupLimit | undefined {
  let best: CgroupLimit | undefined;
  // Inside a container's cgroup namespace the path is "/", and the mount shows the container's own group.
  for (let dir = posix.normalize(`/${path}`); ; dir = posix.dirname(dir)) {
    const at = `${mount}${dir === '/' ? '' : dir}/${file}`;
    const text = fs.read(at)?.trim();
    const bytes = text === undefined || text === 'max' ? Number.NaN : Number(text);
    if (Number.isFinite(bytes) && bytes > 0 && bytes < UNLIMITED && (best === undefined || bytes < best.bytes)) {
      best = { bytes, source: at };
    }
    if (dir === '/') return best;
  }
}
