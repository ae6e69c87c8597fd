import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of one of the shared servers (PostgreSQL, RabbitMQ,
 * Redis): cutting it looks like an outage to the service under test, without
 * touching the server other suites use.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #down = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = createServer((client) => {
      if (!proxy || proxy.#down) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, targetHost);
      const sockets = proxy.#sockets;
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server);
    return proxy;
  }

  get port(): number {
    const address = this.#server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  /** Drops every connection and refuses new ones. */
  cut(): void {
    this.#down = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  restore(): void {
    this.#down = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
