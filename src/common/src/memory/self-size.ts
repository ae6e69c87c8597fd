import { AfConfigInvalidError } from '../errors.ts';
import { type MemoryPlan, nodeFlagsOf, resolveMemoryPlan } from './memory-plan.ts';
import type { MemoryProfileName } from './service-memory.ts';

/**
 * Set in the environment of the re-executed process: "<pid> <plan JSON>". The
 * pid survives execve, so a child process that inherits the variable is not
 * fooled into thinking it was sized.
 */
const MARKER = 'AUDITFLOW_MEMORY_PLAN';

export interface AppliedMemoryPlan extends MemoryPlan {
  /** false when the operator pinned --max-old-space-size themselves (it is left alone). */
  applied: boolean;
}

const HEAP_FLAG = /--max-old-space-size\b/;

/**
 * Makes this process run with the heap and allocator settings of its memory
 * budget, whoever started it (`node dist/main.js` in the image, `npm start
 * --workspace`, the CLI). V8's heap limits are fixed when the isolate is
 * created and glibc reads MALLOC_ARENA_MAX once, so when they are not yet
 * set the process replaces itself (execve: same pid, no wrapper process left
 * to forward signals or hold memory) with the same arguments plus the flags.
 * Call it before anything else runs. A bad MEMORY_LIMIT_MIB ends the process
 * with exit code 78, like every other bad variable.
 */
export function sizeMemory(profile: MemoryProfileName, env: NodeJS.ProcessEnv = process.env): AppliedMemoryPlan | undefined {
  const already = appliedMemoryPlan(env);
  if (already !== undefined) return already;
  let plan: MemoryPlan;
  try {
    plan = resolveMemoryPlan(profile, env);
  } catch (error) {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: profile, code: AfConfigInvalidError.code, variable: 'MEMORY_LIMIT_MIB', msg: (error as Error).message })}\n`);
    process.exit(78);
  }
  const pinned = process.execArgv.some((arg) => HEAP_FLAG.test(arg)) || HEAP_FLAG.test(env['NODE_OPTIONS'] ?? '');
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (pinned || typeof execve !== 'function') {
    const result = { ...plan, applied: false };
    env[MARKER] = `${process.pid} ${JSON.stringify(result)}`;
    return result;
  }
  const nextEnv: NodeJS.ProcessEnv = {
    ...env,
    MALLOC_ARENA_MAX: env['MALLOC_ARENA_MAX'] ?? String(plan.mallocArenaMax),
    [MARKER]: `${process.pid} ${JSON.stringify({ ...plan, applied: true })}`,
  };
  // process.execve is still experimental in Node 24: its one-time warning would be the service's
  // first stderr line, ahead of the JSON logs, for a call that cannot return anyway.
  process.removeAllListeners('warning');
  execve.call(process, process.execPath, [process.execPath, ...process.execArgv, ...nodeFlagsOf(plan), ...process.argv.slice(1)], nextEnv);
  return undefined;
}

/** The plan this process runs under, when sizeMemory applied or recorded one. */
export function appliedMemoryPlan(env: NodeJS.ProcessEnv = process.env): AppliedMemoryPlan | undefined {
  const marker = env[MARKER];
  if (marker === undefined) return undefined;
  const space = marker.indexOf(' ');
  if (Number(marker.slice(0, space)) !== process.pid) return undefined;
  try {
    return JSON.parse(marker.slice(space + 1)) as AppliedMemoryPlan;
  } catch {
    return undefined;
  }
}
