// Network namespaces for the edge tests: named after the run, joined by veth pairs on
// 10.200.0.0/16 addresses that exist only inside them, and removed with every process they
// hold when the test ends (even when it fails).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { track, type RunningProcess } from '../../support/processes.ts';

export interface CommandResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export class Namespaces {
  readonly suffix = randomBytes(3).toString('hex');
  private readonly names: string[] = [];
  private readonly children: RunningProcess[] = [];

  /** Whether this machine can create namespaces (root with iproute2). */
  static available(): boolean {
    return process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;
  }

  name(role: string): string {
    return `af-${role}-${this.suffix}`;
  }

  add(role: string): string {
    const ns = this.name(role);
    host('ip', ['netns', 'add', ns]);
    this.names.push(ns);
    host('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /** A veth pair between two namespaces with an address (CIDR) on each end. */
  link(a: string, aAddress: string, b: string, bAddress: string): void {
    const ia = `v${this.suffix}${this.names.indexOf(a)}${this.names.indexOf(b)}a`;
    const ib = `v${this.suffix}${this.names.indexOf(a)}${this.names.indexOf(b)}b`;
    host('ip', ['link', 'add', ia, 'netns', a, 'type', 'veth', 'peer', 'name', ib, 'netns', b]);
    host('ip', ['-n', a, 'addr', 'add', aAddress, 'dev', ia]);
    host('ip', ['-n', b, 'addr', 'add', bAddress, 'dev', ib]);
    host('ip', ['-n', a, 'link', 'set', ia, 'up']);
    host('ip', ['-n', b, 'link', 'set', ib, 'up']);
  }

  exec(ns: string, cmd: string, args: string[], env: Record<string, string> = {}, input?: string): CommandResult {
    const res = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      input,
      timeout: 120_000,
    });
    if (res.error) throw res.error;
    return { status: res.status, stdout: res.stdout, stderr: res.stderr };
  }

  /** Runs a command and fails with its output unless it exits 0. */
  must(ns: string, cmd: string, args: string[], env: Record<string, string> = {}): string {
    const res = this.exec(ns, cmd, args, env);
    if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} in ${ns} exited ${res.status}: ${res.stdout}${res.stderr}`);
    return res.stdout;
  }

  /** A long-running process inside a namespace, stopped at cleanup. */
  start(ns: string, cmd: string, args: string[], env: Record<string, string> = {}, cwd?: string): RunningProcess {
    const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      env: { ...process.env, ...env },
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const running = track(child);
    this.children.push(running);
    return running;
  }

  /** Stops what was started, kills anything left in the namespaces (wireguard-go daemons) and deletes them. */
  async cleanup(): Promise<void> {
    await Promise.all(this.children.map((c) => c.stop('SIGTERM', 5_000)));
    for (const ns of this.names) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      spawnSync('ip', ['netns', 'del', ns]);
    }
  }
}

function host(cmd: string, args: string[]): void {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}: ${res.stderr}`);
}
