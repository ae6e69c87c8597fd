import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForHttp } from '../../../tests/support/processes.ts';

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: unknown;
}

/**
 * A loopback HTTP receiver that records every request. `respond` decides the status (default
 * 200); `down()`/`up()` close and reopen the same port, for outage tests.
 */
export class HttpReceiver {
  readonly requests: ReceivedRequest[] = [];
  respond: (request: ReceivedRequest) => number | Promise<number> = () => 200;
  #server: Server | undefined;
  port = 0;

  static async start(): Promise<HttpReceiver> {
    const receiver = new HttpReceiver();
    await receiver.up();
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        const received = { path: request.url ?? '', headers: request.headers, body, json };
        this.requests.push(received);
        const status = await this.respond(received);
        response.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    this.#server = server;
  }

  async down(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The receiver's side of docs/outputs.md: recompute the HMAC over `<timestamp>.<body>`, compare in constant time, bound the age. */
export function verifyWebhookSignature(secret: string, request: ReceivedRequest, nowSeconds = Date.now() / 1000): boolean {
  const timestamp = Number(request.headers['x-auditflow-timestamp']);
  const signature = String(request.headers['x-auditflow-signature'] ?? '');
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > 300) return false;
  const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest('hex')}`);
  const presented = Buffer.from(signature);
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}

export interface RunningAlertmanager {
  url: string;
  alerts(): Promise<{ labels: Record<string, string>; annotations: Record<string, string>; endsAt: string; status: { state: string } }[]>;
  groups(): Promise<{ labels: Record<string, string>; alerts: { labels: Record<string, string> }[] }[]>;
  stop(): Promise<void>;
}

/** The Debian Alertmanager binary on an ephemeral port with its own config and storage (no clustering). */
export async function startAlertmanager(groupBy: readonly string[]): Promise<RunningAlertmanager> {
  const dir = await mkdtemp(join(tmpdir(), 'af-am-'));
  const config = join(dir, 'alertmanager.yml');
  await writeFile(
    config,
    `route:\n  receiver: blackhole\n  group_by: [${groupBy.join(', ')}]\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n`,
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    '/usr/bin/prometheus-alertmanager',
    [`--config.file=${config}`, `--storage.path=${dir}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address='],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/-/ready`, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`alertmanager did not start: ${(error as Error).message}\n${stderr}`);
  }
  const get = async (path: string) => (await fetch(`${url}${path}`)).json();
  return {
    url,
    alerts: async () => (await get('/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true')) as never,
    groups: async () => (await get('/api/v2/alerts/groups')) as never,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
