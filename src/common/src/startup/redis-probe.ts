import { connect } from 'node:net';
import { redactUrl } from '../config.ts';
import { EXIT_UNAVAILABLE, StartupError } from '../errors.ts';

/**
 * Throws StartupError AF_REDIS_UNREACHABLE (exit 69, one line naming the
 * variable) unless Redis accepts a TCP connection at `url` within the time.
 * Without this an unreachable Redis only shows as alerts that never come.
 */
export async function assertRedisReachable(url: string, variable: string, timeoutMs = 5000): Promise<void> {
  let host: string;
  let port: number;
  try {
    const parsed = new URL(url);
    host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    port = Number(parsed.port || 6379);
  } catch (cause) {
    throw new StartupError('AF_REDIS_UNREACHABLE', `cannot reach Redis: ${variable} is not a URL`, { variable, exitCode: EXIT_UNAVAILABLE, cause });
  }
  const error = await new Promise<Error | undefined>((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      resolve(undefined);
    });
    socket.once('error', (failure) => {
      clearTimeout(timer);
      resolve(failure);
    });
  });
  if (error === undefined) return;
  const detail = (error as NodeJS.ErrnoException).code ?? error.message;
  throw new StartupError('AF_REDIS_UNREACHABLE', `cannot reach Redis at ${redactUrl(url)} (${detail}); check ${variable}`, {
    variable,
    exitCode: EXIT_UNAVAILABLE,
    cause: error,
  });
}
