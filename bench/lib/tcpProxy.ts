// A TCP proxy (shared by the store tests and the persistence benchmark) put between the gateway and PostgreSQL to fake network faults:
//   stall()   — connections stay open but nothing moves (a hung server or a black-holed route);
//               new connections are accepted and left waiting.
//   kill()    — every connection is reset and new ones are refused (server down).
//   restore() — traffic flows again; stalled and waiting connections resume.
import net from 'node:net';

type Mode = 'pass' | 'stall' | 'down';

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
}

export class TcpProxy {
  readonly #server: net.Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  #mode: Mode = 'pass';

  private constructor(server: net.Server, target: { host: string; port: number }) {
    this.#server = server;
    this.#target = target;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = net.createServer();
    const proxy = new TcpProxy(server, target);
    server.on('connection', (socket) => proxy.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  /** The same URL, pointed at the proxy. */
  rewrite(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  stall(): void {
    this.#mode = 'stall';
    for (const p of this.#pairs) {
      p.client.pause();
      p.upstream?.pause();
    }
  }

  kill(): void {
    this.#mode = 'down';
    for (const p of this.#pairs) this.#destroy(p);
  }

  restore(): void {
    this.#mode = 'pass';
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
    if (this.#mode === 'down') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: null };
    this.#pairs.add(pair);
    client.on('error', () => this.#destroy(pair));
    client.on('close', () => this.#destroy(pair));
    if (this.#mode === 'stall') client.pause();
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
    pair.client.resetAndDestroy();
    pair.upstream?.resetAndDestroy();
  }
}
