import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { backoffDelay, type Logger, sleep, portBindError } from '@auditflow/common';
import type { TlsFiles } from '../config.ts';
import type { IngestMetrics } from '../metrics.ts';
import type { SourceMeta } from '../normalise/event-builder.ts';
import { dead, DEAD_LETTER_CODES, type Normalised, type Normaliser } from '../normalise/normaliser.ts';
import type { IngestPipeline } from '../pipeline.ts';
import { SyslogFramer } from './syslog-framing.ts';

export interface SyslogServerOptions {
  host: string;
  /** TCP and UDP; 0 picks a free TCP port and uses the same number for UDP. */
  port: number;
  /** When set, a TLS listener on tlsPort as well. */
  tls?: TlsFiles | undefined;
  tlsPort?: number;
  maxMessageBytes: number;
  normaliser: Normaliser;
  pipeline: IngestPipeline;
  metrics: IngestMetrics;
  logger: Logger;
}

export interface SyslogServer {
  readonly tcpPort: number;
  readonly udpPort: number;
  readonly tlsPort: number | undefined;
  /** Stops accepting, lets every connection finish what it read (up to timeoutMs), then closes. */
  close(timeoutMs?: number): Promise<void>;
}

/** UDP datagrams are batched for this long, so one confirm round covers many. */
const UDP_BATCH_MS = 5;
const UDP_BATCH_MAX = 512;

/**
 * Syslog over TCP (RFC 6587 octet counting or newline framing), optionally
 * TLS (RFC 5425), and UDP (RFC 5426). A TCP connection is not read further
 * until the broker confirmed everything read so far: while RabbitMQ is down
 * the socket stays paused, the kernel's window fills, and rsyslog keeps the
 * messages in its own queue instead of them being lost here.
 */
export async function startSyslogServer(options: SyslogServerOptions): Promise<SyslogServer> {
  const sockets = new Set<Socket>();
  const chains = new Set<Promise<void>>();
  const abort = new AbortController();

  const onConnection = (transport: 'tcp' | 'tls') => (socket: Socket) => {
    sockets.add(socket);
    const meta: SourceMeta = { kind: 'syslog', transport, peer: peerOf(socket.remoteAddress, socket.remotePort) };
    const framer = new SyslogFramer(options.maxMessageBytes);
    let chain: Promise<void> = Promise.resolve();
    let busy = 0;
    socket.on('data', (chunk: Buffer) => {
      const items = framer.push(chunk).map((item): Normalised =>
        item.error === undefined
          ? options.normaliser.syslog(item.frame, meta)
          : dead(DEAD_LETTER_CODES.syslog, item.error, Buffer.from(item.raw), meta),
      );
      if (items.length === 0) return;
      busy++;
      socket.pause();
      chain = chain.then(() => deliverUntilConfirmed(items)).finally(() => {
        busy--;
        if (busy === 0 && !socket.destroyed) socket.resume();
      });
      const tracked = chain;
      chains.add(tracked);
      void tracked.finally(() => chains.delete(tracked));
    });
    socket.on('error', (error) => options.logger.debug({ err: error, peer: meta.peer }, 'syslog connection error'));
    socket.on('close', () => sockets.delete(socket));
    socket.setKeepAlive(true, 60_000);
  };

  /** Retries while the broker is down: the sender is held back, never answered early. */
  const deliverUntilConfirmed = async (items: Normalised[]): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await options.pipeline.deliver('syslog', items);
        return;
      } catch (error) {
        if (abort.signal.aborted) return;
        if (attempt === 0) options.metrics.rejected.inc({ reason: 'broker_unavailable' });
        const delay = backoffDelay(attempt, { initialMs: 200, maxMs: 5000 });
        options.logger.warn({ err: error, retry_in_ms: delay, messages: items.length }, 'syslog batch not confirmed; holding the connection');
        await sleep(delay, abort.signal).catch(() => undefined);
        if (abort.signal.aborted) return;
      }
    }
  };

  const tcp = createTcpServer({ pauseOnConnect: false }, onConnection('tcp'));
  // A busy port is one line naming the variable that moves it (exit 78), and nothing stays bound.
  const tcpPort = await listenTcp(tcp, options.port, options.host, 'SYSLOG_PORT');
  let tlsServer: Server | undefined;
  let tlsPort: number | undefined;
  if (options.tls) {
    tlsServer = createTlsServer(
      {
        cert: options.tls.cert,
        key: options.tls.key,
        ...(options.tls.ca ? { ca: options.tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
        minVersion: 'TLSv1.2',
      },
      onConnection('tls'),
    );
    try {
      tlsPort = await listenTcp(tlsServer, options.tlsPort ?? 6514, options.host, 'SYSLOG_TLS_PORT');
    } catch (error) {
      await closeServer(tcp);
      throw error;
    }
  }

  // UDP: no way to hold a sender back, so batches are published as they come and losses are counted.
  const udp = createSocket({ type: options.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  let batch: Normalised[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flushUdp = () => {
    timer = undefined;
    const items = batch;
    batch = [];
    if (items.length === 0) return;
    const tracked = options.pipeline.deliver('syslog', items).then(
      () => undefined,
      (error: unknown) => {
        options.metrics.udpDropped.inc({ reason: 'broker_unavailable' }, items.length);
        options.logger.warn({ err: error, messages: items.length }, 'syslog UDP batch not confirmed; datagrams lost');
      },
    );
    chains.add(tracked);
    void tracked.finally(() => chains.delete(tracked));
  };
  udp.on('message', (message: Buffer, remote: RemoteInfo) => {
    const meta: SourceMeta = { kind: 'syslog', transport: 'udp', peer: peerOf(remote.address, remote.port) };
    if (message.length > options.maxMessageBytes) {
      batch.push(dead(DEAD_LETTER_CODES.oversized, `datagram of ${message.length} bytes exceeds ${options.maxMessageBytes}`, message.subarray(0, 256), meta));
    } else {
      let end = message.length;
      while (end > 0 && (message[end - 1] === 10 || message[end - 1] === 0)) end--;
      batch.push(options.normaliser.syslog(message.subarray(0, end), meta));
    }
    if (batch.length >= UDP_BATCH_MAX) {
      clearTimeout(timer);
      flushUdp();
    } else timer ??= setTimeout(flushUdp, UDP_BATCH_MS);
  });
  udp.on('error', (error) => options.logger.error({ err: error }, 'syslog UDP socket error'));
  let udpPort: number;
  try {
    udpPort = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(tcpPort, options.host, () => {
        udp.off('error', reject);
        resolve(udp.address().port);
      });
    });
  } catch (error) {
    udp.close();
    await Promise.all([closeServer(tcp), tlsServer ? closeServer(tlsServer) : undefined]);
    throw portBindError(error, { port: tcpPort, host: options.host, variable: 'SYSLOG_PORT' });
  }
  options.logger.info({ tcp: tcpPort, udp: udpPort, tls: tlsPort }, 'syslog listeners open');

  return {
    tcpPort,
    udpPort,
    tlsPort,
    close: async (timeoutMs = 10_000) => {
      const closed = [closeServer(tcp), tlsServer ? closeServer(tlsServer) : Promise.resolve()];
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      clearTimeout(timer);
      flushUdp();
      const deadline = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
      await Promise.race([Promise.allSettled([...chains]), deadline]);
      abort.abort();
      for (const socket of sockets) socket.destroy();
      await Promise.all(closed);
    },
  };
}

function listenTcp(server: Server, port: number, host: string, variable: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(portBindError(error, { port, host, variable }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export function peerOf(address: string | undefined, port: number | undefined): string | undefined {
  if (!address) return undefined;
  const bare = address.startsWith('::ffff:') ? address.slice(7) : address;
  return bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
}
