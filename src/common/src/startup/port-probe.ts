import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { EXIT_CONFIG, StartupError, AfPortInUseError } from '../errors.ts';

export interface PortClaim {
  port: number;
  host: string;
  /** The variable a person changes to move this listener. */
  variable: string;
  /** The listener takes UDP on the same port too (syslog): that must be free as well. */
  udp?: boolean;
}

/**
 * A bind failure as the start-up error a person can act on: a busy or
 * forbidden port names the variable that moves it (exit 78). Other errors
 * are returned as they are.
 */
export function portBindError(error: unknown, claim: PortClaim): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'EADDRINUSE' && code !== 'EACCES') return error;
  const why = code === 'EADDRINUSE' ? 'is already in use by another process' : 'needs privileges this process does not have';
  return new StartupError(AfPortInUseError.code, `port ${claim.port} on ${claim.host} ${why}; set ${claim.variable} to a free port`, {
    variable: claim.variable,
    exitCode: EXIT_CONFIG,
    cause: error,
  });
}

function tryBindUdp(claim: PortClaim): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(claim.host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', (error: NodeJS.ErrnoException) => {
      socket.close();
      resolve(error);
    });
    socket.bind({ port: claim.port, address: claim.host, exclusive: true }, () => socket.close(() => resolve(undefined)));
  });
}

function tryBind(claim: PortClaim): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ port: claim.port, host: claim.host, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/**
 * Binds and releases each fixed port before anything with state is opened, so
 * a busy port stops the start-up before a store is opened or migrated. Port 0
 * (any free port) cannot clash and is skipped.
 */
export async function assertPortsFree(claims: readonly PortClaim[]): Promise<void> {
  for (const claim of claims) {
    if (claim.port === 0) continue;
    const error = (await tryBind(claim)) ?? (claim.udp ? await tryBindUdp(claim) : undefined);
    if (error === undefined) continue;
    const why =
      error.code === 'EADDRINUSE'
        ? 'is already in use by another process'
        : error.code === 'EACCES'
          ? 'needs privileges this process does not have'
          : `cannot be bound (${error.code ?? error.message})`;
    throw new StartupError(AfPortInUseError.code, `port ${claim.port} on ${claim.host} ${why}; set ${claim.variable} to a free port (0 picks one)`, {
      variable: claim.variable,
      exitCode: EXIT_CONFIG,
      cause: error,
    });
  }
}
