import { Connection } from 'rabbitmq-client';
import { redactUrl } from '../config.ts';
import { EXIT_CONFIG, EXIT_UNAVAILABLE, StartupError, AfBrokerRefusedError, AfBrokerUnreachableError } from '../errors.ts';

/** The first connection attempt's outcome: connected, its error, or a timeout. */
function firstAttempt(connection: Connection, timeoutMs: number): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    connection.once('connection', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    connection.once('error', (error: Error) => {
      clearTimeout(timer);
      resolve(error);
    });
  });
}

/**
 * One connection attempt to RabbitMQ with a deadline, before the services
 * start: the broker adapter itself retries forever, which is right once running
 * and wrong for a first start against a URL that points nowhere.
 */
export async function assertBrokerReachable(url: string, variable: string, timeoutMs = 5000): Promise<void> {
  const connection = new Connection({ url, connectionTimeout: timeoutMs, retryLow: 1000, retryHigh: 1000 });
  const error = await firstAttempt(connection, timeoutMs);
  // Later attempts' errors must not become unhandled 'error' events while closing.
  connection.on('error', () => undefined);
  // Closing a connection that never opened can wait on the client's unref'd timers; do not wait long.
  await Promise.race([connection.close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 500))]);
  if (error === undefined) return;
  const detail = (error as NodeJS.ErrnoException).code ?? error.message;
  const refused = /ACCESS_REFUSED|NOT_ALLOWED|auth/i.test(`${detail} ${error.message}`);
  throw new StartupError(
    refused ? AfBrokerRefusedError.code : AfBrokerUnreachableError.code,
    `${refused ? 'RabbitMQ refused the connection' : 'cannot reach RabbitMQ'} at ${redactUrl(url)} (${detail}); check ${variable}`,
    { variable, exitCode: refused ? EXIT_CONFIG : EXIT_UNAVAILABLE, cause: error },
  );
}
