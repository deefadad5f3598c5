import net from 'node:net';

/**
 * The entry point of the two-node topology, as small as it can be: a TCP proxy that hands each
 * new connection to the next node in turn and, when a node refuses (stopped, restarting), to
 * the other. Open connections are piped through untouched (HTTP, WebSocket upgrades).
 */
export class FailoverProxy {
  private next = 0;
  private readonly open = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    private readonly backends: readonly number[],
  ) {}

  static async start(backends: readonly number[]): Promise<FailoverProxy> {
    const server = net.createServer();
    const proxy = new FailoverProxy(server, backends);
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    const address = this.server.address() as net.AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  private accept(client: net.Socket): void {
    client.pause();
    this.open.add(client);
    client.on('close', () => this.open.delete(client));
    client.on('error', () => client.destroy());
    const first = this.next++ % this.backends.length;
    const order = this.backends.map((_, i) => this.backends[(first + i) % this.backends.length]!);
    const attempt = (i: number) => {
      if (i >= order.length || client.destroyed) return client.destroy();
      const upstream = net.connect(order[i]!, '127.0.0.1');
      // Before 'connect', an error is the node refusing: try the next one.
      upstream.once('error', () => {
        upstream.destroy();
        attempt(i + 1);
      });
      upstream.once('connect', () => {
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        this.open.add(upstream);
        upstream.on('close', () => this.open.delete(upstream));
        upstream.pipe(client);
        client.pipe(upstream);
        client.resume();
      });
    };
    attempt(0);
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
