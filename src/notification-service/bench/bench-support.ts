import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const DATABASE_URL = process.env['BENCH_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const RABBITMQ_URL = process.env['BENCH_RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const SOURCE_MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const BUILT_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/**
 * The built service is what production runs (no type stripping in memory);
 * source mode is the fallback when nothing was built (`npm run build`).
 */
export function serviceCommand(): { args: string[]; mode: 'dist' | 'source' } {
  if (existsSync(BUILT_MAIN)) return { args: [BUILT_MAIN], mode: 'dist' };
  return { args: ['--conditions=source', SOURCE_MAIN], mode: 'source' };
}

/** Keep in step with NODE_OPTIONS in the Dockerfile. */
export const SERVICE_NODE_OPTIONS = '--max-semi-space-size=4 --max-old-space-size=96';

export function uniqueSchema(prefix: string): string {
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 10)}`;
}

export function schemaUrl(schema: string): string {
  const url = new URL(DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export async function withAdmin<T>(work: (client: pg.Client) => Promise<T>, url = DATABASE_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface ServiceProcess {
  child: ChildProcess;
  baseUrl: string;
  stop(): Promise<void>;
}

/** Runs the notification service as its own process (source mode), resolving once it logged its URLs (needs LOG_LEVEL info). */
export async function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  const child = spawn(process.execPath, serviceCommand().args, {
    env: {
      PATH: process.env['PATH'] ?? '',
      LOG_LEVEL: 'info',
      API_HOST: '127.0.0.1',
      API_PORT: '0',
      // The image's V8 settings (see the Dockerfile), so the figures are the deployed ones.
      NODE_OPTIONS: process.env['BENCH_SERVICE_NODE_OPTIONS'] ?? SERVICE_NODE_OPTIONS,
      // Tuning experiments: the service's own prefetch setting, passed through when set.
      ...(process.env['RABBITMQ_PREFETCH'] ? { RABBITMQ_PREFETCH: process.env['RABBITMQ_PREFETCH'] } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      for (const line of buffer.split('\n')) {
        try {
          const entry = JSON.parse(line) as { urls?: { http?: string } };
          if (entry.urls?.http) {
            child.stdout?.off('data', onData);
            child.stdout?.resume();
            resolve(entry.urls.http);
            return;
          }
        } catch {
          // A partial line; wait for the rest.
        }
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`service exited with ${code} before it started`)));
  });
  return {
    child,
    baseUrl,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Current and peak resident set size of a process, in MiB (Linux /proc). */
export function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
