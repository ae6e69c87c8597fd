import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { EXIT_UNAVAILABLE, StartupError, AfDataDirLockedError } from '@auditflow/common';

/** A second process opening the same PGlite directory would corrupt it: PGlite has no locking of its own. */
export class DataDirLockedError extends StartupError {
  readonly holderPid: number;
  constructor(dataDir: string, holderPid: number) {
    super(
      AfDataDirLockedError.code,
      `the data directory ${dataDir} is in use by process ${holderPid} (another auditflow start or migrate); stop it or set DATA_DIR to another directory`,
      { variable: 'DATA_DIR', exitCode: EXIT_UNAVAILABLE },
    );
    this.holderPid = holderPid;
  }
}

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else, so it still holds the lock.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Takes `<dataDir>.lock` exclusively (O_CREAT|O_EXCL) with this process's PID
 * in it. A lock whose PID is dead (a process killed with SIGKILL) is stale and
 * taken over; a live holder, this process included, makes it fail with
 * DataDirLockedError. The lock file is also removed on process exit.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = `${dataDir}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off('exit', release);
        // Only our own lock: a stale-lock takeover by another process must not be undone.
        if (readHolder(path) === process.pid) unlinkSync(path);
      };
      process.on('exit', release);
      return { path, release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder(path);
    if (holder !== undefined && isAlive(holder)) throw new DataDirLockedError(dataDir, holder);
    // Stale (dead PID) or half-written: remove it and try again; O_EXCL settles a race between two takers.
    try {
      unlinkSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  throw new DataDirLockedError(dataDir, readHolder(path) ?? 0);
}
