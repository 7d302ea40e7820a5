// A TCP proxy between the gateway and PostgreSQL that can stop forwarding: a stalled database as the
// gateway sees it (a hung server or a black-holed route): connections stay open, nothing moves, new
// connections are accepted and left waiting. resume() lets everything flow again, nothing lost.
import net from 'node:net';

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
}

export class StallableProxy {
  readonly #server: net.Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  #stalled = false;

  private constructor(server: net.Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
  }

  static async start(targetUrl: string): Promise<StallableProxy> {
    const u = new URL(targetUrl);
    const server = net.createServer();
    const proxy = new StallableProxy(server, { host: u.hostname, port: Number(u.port || 5432) });
    server.on('connection', (socket) => proxy.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String((this.#server.address() as net.AddressInfo).port);
    return u.toString();
  }

  stall(): void {
    this.#stalled = true;
    for (const p of this.#pairs) {
      p.client.pause();
      p.upstream?.pause();
    }
  }

  resume(): void {
    this.#stalled = false;
    for (const p of this.#pairs) {
      if (p.upstream === null) this.#connect(p);
      else {
        p.client.resume();
        p.upstream.resume();
      }
    }
  }

  async close(): Promise<void> {
    for (const p of this.#pairs) this.#destroy(p);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    const pair: Pair = { client, upstream: null };
    this.#pairs.add(pair);
    client.on('error', () => this.#destroy(pair));
    client.on('close', () => this.#destroy(pair));
    if (this.#stalled) client.pause();
    else this.#connect(pair);
  }

  #connect(pair: Pair): void {
    const upstream = net.connect(this.#target.port, this.#target.host);
    pair.upstream = upstream;
    upstream.on('error', () => this.#destroy(pair));
    upstream.on('close', () => this.#destroy(pair));
    pair.client.pipe(upstream);
    upstream.pipe(pair.client);
    pair.client.resume();
  }

  #destroy(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
