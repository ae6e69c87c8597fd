import { createServer } from 'node:net';
import { EXIT_CONFIG, StartupError, AfPortInUseError } from '../errors.ts';

export interface PortClaim {
  port: number;
  host: string;
  /** The variable a person changes to move this listener. */
  variable: string;
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
    const error = await tryBind(claim);
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
