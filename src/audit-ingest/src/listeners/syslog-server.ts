import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { backoffDelay, type Logger, sleep } from '@auditflow/common';
import type { TlsFiles } from '../config.ts';
import type { IngestMetrics } from '../metrics.ts';
import type { SourceMeta } from '../normalise/event-builder.ts';
import { dead, DEAD_LETTER_CODES, type Normalised, type Normaliser } from '../normalise/normaliser.ts';
import type { IngestPipeline } from '../pipeline.ts';
import { flagHostMismatch, type SenderPolicy } from './sender-policy.ts';
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
  /** The unauthenticated TCP and UDP listeners. @default true */
  plain?: boolean;
  /** Who plain senders (and TLS senders without a client certificate) may be; everyone when omitted. */
  senders?: SenderPolicy;
  /** A TCP/TLS connection that sends nothing this long is closed. @default 600000 */
  idleTimeoutMs?: number;
  /** Open TCP plus TLS connections; further ones are refused. @default 256 */
  maxConnections?: number;
}

export interface SyslogServer {
  /** Undefined when the plain listeners are off. */
  readonly tcpPort: number | undefined;
  readonly udpPort: number | undefined;
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

  const maxConnections = options.maxConnections ?? 256;
  const idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
  const refuse = (transport: string, reason: string, peer: string | undefined): void => {
    options.metrics.syslogRefused.inc({ transport, reason });
    options.logger.warn({ transport, reason, peer }, 'syslog sender refused');
  };

  const onConnection = (transport: 'tcp' | 'tls', authenticated: boolean) => (socket: Socket) => {
    const peer = peerOf(socket.remoteAddress, socket.remotePort);
    // Unauthenticated senders are known only by their address: it must be on the allow-list.
    if (!authenticated && options.senders && !options.senders.allows(socket.remoteAddress)) {
      refuse(transport, 'sender_not_allowed', peer);
      socket.destroy();
      return;
    }
    if (sockets.size >= maxConnections) {
      refuse(transport, 'too_many_connections', peer);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    options.metrics.syslogConnections.set(sockets.size);
    const meta: SourceMeta = { kind: 'syslog', transport, peer };
    const framer = new SyslogFramer(options.maxMessageBytes);
    // A client certificate names the host it was issued to: a HOSTNAME outside its names is a mismatch.
    const certNames = authenticated ? certificateNames(socket as TLSSocket) : undefined;
    const mismatch = (host: string): boolean =>
      certNames !== undefined ? !certNames.has(host.toLowerCase()) : (options.senders?.mismatch(host, socket.remoteAddress) ?? false);
    let chain: Promise<void> = Promise.resolve();
    let busy = 0;
    socket.on('data', (chunk: Buffer) => {
      const items = framer.push(chunk).map((item): Normalised => {
        if (item.error !== undefined) return dead(DEAD_LETTER_CODES.syslog, item.error, Buffer.from(item.raw), meta);
        return checkHost(options.normaliser.syslog(item.frame, meta), transport, mismatch);
      });
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
    socket.on('close', () => {
      sockets.delete(socket);
      options.metrics.syslogConnections.set(sockets.size);
    });
    socket.setKeepAlive(true, 60_000);
    // A connection that never finishes a message would hold a slot forever; one held back by the broker is not idle.
    socket.setTimeout(idleTimeoutMs, () => {
      if (busy > 0) return;
      refuse(transport, 'idle_timeout', peer);
      socket.destroy();
    });
  };

  const checkHost = (item: Normalised, transport: string, mismatch: (host: string) => boolean): Normalised => {
    if (item.kind !== 'event' || !mismatch(item.event.server_hostname)) return item;
    options.metrics.hostMismatch.inc({ transport });
    options.logger.warn({ transport, peer: item.event.source?.peer, claimed_host: item.event.server_hostname }, 'syslog HOSTNAME does not fit its sender');
    return { kind: 'event', event: flagHostMismatch(item.event) };
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

  const plain = options.plain ?? true;
  const tcp = plain ? createTcpServer({ pauseOnConnect: false }, onConnection('tcp', false)) : undefined;
  const tcpPort = tcp ? await listenTcp(tcp, options.port, options.host) : undefined;
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
      // With a client CA, every connection that completes the handshake presented a certificate it signed.
      onConnection('tls', options.tls.ca !== undefined),
    );
    tlsServer.on('tlsClientError', (error, socket) => {
      options.metrics.syslogRefused.inc({ transport: 'tls', reason: 'handshake_failed' });
      options.logger.warn({ err: error, peer: peerOf(socket.remoteAddress, socket.remotePort) }, 'syslog TLS handshake refused');
    });
    tlsPort = await listenTcp(tlsServer, options.tlsPort ?? 6514, options.host);
  }

  // UDP: no way to hold a sender back, so batches are published as they come and losses are counted.
  const udp = plain ? createSocket({ type: options.host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024 }) : undefined;
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
  udp?.on('message', (message: Buffer, remote: RemoteInfo) => {
    const meta: SourceMeta = { kind: 'syslog', transport: 'udp', peer: peerOf(remote.address, remote.port) };
    if (options.senders && !options.senders.allows(remote.address)) {
      options.metrics.syslogRefused.inc({ transport: 'udp', reason: 'sender_not_allowed' });
      return;
    }
    if (message.length > options.maxMessageBytes) {
      batch.push(dead(DEAD_LETTER_CODES.oversized, `datagram of ${message.length} bytes exceeds ${options.maxMessageBytes}`, message.subarray(0, 256), meta));
    } else {
      let end = message.length;
      while (end > 0 && (message[end - 1] === 10 || message[end - 1] === 0)) end--;
      const mismatch = (host: string): boolean => options.senders?.mismatch(host, remote.address) ?? false;
      batch.push(checkHost(options.normaliser.syslog(message.subarray(0, end), meta), 'udp', mismatch));
    }
    if (batch.length >= UDP_BATCH_MAX) {
      clearTimeout(timer);
      flushUdp();
    } else timer ??= setTimeout(flushUdp, UDP_BATCH_MS);
  });
  udp?.on('error', (error) => options.logger.error({ err: error }, 'syslog UDP socket error'));
  const udpPort =
    udp === undefined
      ? undefined
      : await new Promise<number>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind(tcpPort, options.host, () => {
            udp.off('error', reject);
            resolve(udp.address().port);
          });
        });
  options.logger.info({ tcp: tcpPort, udp: udpPort, tls: tlsPort }, 'syslog listeners open');

  return {
    tcpPort,
    udpPort,
    tlsPort,
    close: async (timeoutMs = 10_000) => {
      const closed = [tcp ? closeServer(tcp) : Promise.resolve(), tlsServer ? closeServer(tlsServer) : Promise.resolve()];
      if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
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

function listenTcp(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Lower-cased DNS names and common name of a verified client certificate. */
function certificateNames(socket: TLSSocket): Set<string> {
  const names = new Set<string>();
  const certificate = socket.getPeerCertificate();
  const cn = certificate?.subject?.CN;
  if (typeof cn === 'string') names.add(cn.toLowerCase());
  for (const part of (certificate?.subjectaltname ?? '').split(',')) {
    const match = /^\s*DNS:(.+)$/.exec(part);
    if (match) names.add(match[1]!.trim().toLowerCase());
  }
  return names;
}

export function peerOf(address: string | undefined, port: number | undefined): string | undefined {
  if (!address) return undefined;
  const bare = address.startsWith('::ffff:') ? address.slice(7) : address;
  return bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
}
