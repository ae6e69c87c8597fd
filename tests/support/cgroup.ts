import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/**
 * A real memory cgroup with a hard limit, as the kubelet makes for a pod:
 * cgroup v2 where the memory controller is on the unified hierarchy, else a
 * child of this process's own v1 memory group. Needs root (CI runs as root).
 */
export interface MemoryCgroup {
  version: 1 | 2;
  path: string;
  /** Starts a command inside the group from its first instruction (a shell joins, then execs it). */
  spawn(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }): ChildProcess;
  /** Highest usage of the group (every process in it, as the limit counts it), MiB. */
  peakMiB(): number;
  /** Processes the kernel's OOM killer killed in the group. */
  oomKills(): number;
  remove(): void;
}

const ROOT = '/sys/fs/cgroup';

export function cgroupsAvailable(): boolean {
  return process.getuid?.() === 0 && (v2Memory() || existsSync(`${ROOT}/memory`));
}

function v2Memory(): boolean {
  try {
    return readFileSync(`${ROOT}/cgroup.controllers`, 'utf8').split(/\s+/).includes('memory');
  } catch {
    return false;
  }
}

function ownGroup(controller: 'memory' | ''): string {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
  const line = controller === '' ? lines.find((l) => l.startsWith('0::')) : lines.find((l) => l.split(':')[1]?.split(',').includes('memory'));
  if (line === undefined) throw new Error(`no ${controller || 'v2'} cgroup in /proc/self/cgroup`);
  return line.split(':').slice(2).join(':');
}

export function createMemoryCgroup(limitMiB: number, name = `auditflow-test-${randomBytes(4).toString('hex')}`): MemoryCgroup {
  const bytes = limitMiB * 1024 * 1024;
  let version: 1 | 2;
  let path: string;
  if (v2Memory()) {
    version = 2;
    // A v2 process may not sit in a group that has children with controllers: use a sibling under the root.
    path = `${ROOT}/${name}`;
    mkdirSync(path);
    writeFileSync(`${path}/memory.max`, String(bytes));
    writeFileSync(`${path}/memory.swap.max`, '0');
  } else {
    version = 1;
    path = `${ROOT}/memory${ownGroup('memory').replace(/\/$/, '')}/${name}`;
    mkdirSync(path);
    writeFileSync(`${path}/memory.limit_in_bytes`, String(bytes));
    // No swap to hide in: the limit is the pod's, memory and swap together.
    try {
      writeFileSync(`${path}/memory.memsw.limit_in_bytes`, String(bytes));
    } catch {
      // swap accounting off: nothing to hide in anyway
    }
  }
  const read = (file: string) => readFileSync(`${path}/${file}`, 'utf8');
  return {
    version,
    path,
    spawn(command, args, options) {
      return spawn('sh', ['-c', `echo $$ > "${path}/cgroup.procs" && exec "$@"`, 'sh', command, ...args], {
        cwd: options.cwd,
        env: options.env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    },
    peakMiB() {
      const file = version === 2 ? 'memory.peak' : 'memory.max_usage_in_bytes';
      return Number(read(file).trim()) / 1048576;
    },
    oomKills() {
      const text = version === 2 ? read('memory.events') : read('memory.oom_control');
      return Number(/^oom_kill (\d+)/m.exec(text)?.[1] ?? 0);
    },
    remove() {
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          rmdirSync(path);
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
          // EBUSY until the last process of the group is reaped.
          const until = Date.now() + 100;
          while (Date.now() < until) {
            // brief spin; remove() runs once at the end of a test
          }
        }
      }
    },
  };
}
