import { EXIT_CONFIG, EXIT_UNAVAILABLE, redactUrl, StartupError, AfDatabaseRefusedError, AfDatabaseUnreachableError } from '@auditflow/common';
import pg from 'pg';

/** SQLSTATEs a person fixes in the settings rather than by waiting. */
const CONFIG_STATES: Record<string, string> = {
  '3D000': 'the database does not exist',
  '28P01': 'the password was refused',
  '28000': 'the role may not connect',
};

/**
 * One connection with a deadline before anything is migrated: the pool
 * retries per query, which hides a wrong DATABASE_URL behind a hang or a stack.
 */
export async function assertDatabaseReachable(url: string, variable: string, timeoutMs = 5000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    const reason = CONFIG_STATES[code];
    throw new StartupError(
      reason ? AfDatabaseRefusedError.code : AfDatabaseUnreachableError.code,
      reason
        ? `PostgreSQL at ${redactUrl(url)} refused: ${reason} (${(error as Error).message}); check ${variable}`
        : `cannot reach PostgreSQL at ${redactUrl(url)} (${(error as Error).message || code}); check ${variable}`,
      { variable, exitCode: reason ? EXIT_CONFIG : EXIT_UNAVAILABLE, cause: error },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
