// The main-thread side of PGlite-on-a-worker. It looks to `@electric-sql/pglite/node-postgres` like a
// PGlite instance (waitReady + execProtocolStream), so node-postgres and the whole app keep their
// one code path (a pg.Pool), while the database work happens off the audio thread. Responses are
// parsed with pg-protocol's own parser, exactly as node-postgres parses a socket.
import { Worker } from 'node:worker_threads';
import { Parser } from 'pg-protocol/dist/parser.js';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { ProtocolBatchBuffer } from './pgliteBatch.ts';
import type { WorkerReply, WorkerRequest } from './pgliteWorker.ts';

type BatchReply = Extract<WorkerReply, { type: 'result' }>;

export class PgliteThread {
  readonly waitReady: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (reply: BatchReply) => void; reject: (e: Error) => void }>();
  private readonly request = new ProtocolBatchBuffer(4096);
  private nextId = 1;
  private closed: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(dataDir: string) {
    // The thread's JavaScript allocates little (a reply buffer per batch; PGlite's data lives in WASM
    // memory), so a 4 MB young generation is plenty: V8's default sizes it for a busy main thread
    // (-12 MB resident, measured).
    this.worker = new Worker(new URL('./pgliteWorker.ts', import.meta.url), { workerData: { dataDir }, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    this.waitReady = new Promise<void>((resolve, reject) => {
      const onReply = (reply: WorkerReply): void => {
        if (reply.type === 'ready') resolve();
        else if (reply.type === 'failed') reject(new Error(`PGlite failed to open ${dataDir}: ${reply.message}`));
      };
      this.worker.on('message', onReply);
      this.worker.once('error', reject);
    });
    this.worker.on('message', (reply: WorkerReply) => this.onReply(reply));
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new Error(`PGlite worker exited (code ${code})`)));
  }

  static async start(dataDir: string): Promise<PgliteThread> {
    const thread = new PgliteThread(dataDir);
    await thread.waitReady;
    return thread;
  }

  private onReply(reply: WorkerReply): void {
    if (reply.type !== 'result') return;
    const waiter = this.pending.get(reply.id);
    if (waiter === undefined) return;
    this.pending.delete(reply.id);
    waiter.resolve(reply);
  }

  private failAll(err: Error): void {
    this.failure ??= err;
    for (const w of this.pending.values()) w.reject(err);
    this.pending.clear();
  }

  /** Runs protocol messages in order, in one hop to the thread; each answer parsed, or the error PGlite threw. */
  async execProtocolBatch(items: Uint8Array[]): Promise<Array<BackendMessage[] | Error>> {
    if (this.failure) throw this.failure;
    const id = this.nextId++;
    for (const item of items) this.request.append(item);
    const bytes = this.request.take();
    const lengths = items.map((item) => item.byteLength);
    const reply = await new Promise<BatchReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'exec', id, bytes, lengths } satisfies WorkerRequest, [bytes.buffer as ArrayBuffer]);
    });
    const answers = Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength);
    let start = 0;
    return reply.ends.map((end, i) => {
      const chunk = answers.subarray(start, end);
      start = end;
      const error = reply.errors[i];
      if (error !== undefined) return new Error(error);
      const messages: BackendMessage[] = [];
      new Parser().parse(chunk, (m) => messages.push(m));
      return messages;
    });
  }

  /** CPU time the PGlite thread has used (µs, user + system): how much of the process's CPU is the database's. */
  async cpuUs(): Promise<number | undefined> {
    if (this.failure !== undefined || this.closed !== undefined) return undefined;
    const u = await this.worker.cpuUsage().catch(() => undefined);
    return u === undefined ? undefined : u.user + u.system;
  }

  /** One protocol message (the PgliteEngine interface). */
  async execProtocolStream(bytes: Uint8Array): Promise<BackendMessage[]> {
    const [answer] = await this.execProtocolBatch([bytes]);
    if (answer === undefined) throw new Error('PGlite worker gave no answer');
    if (answer instanceof Error) throw answer;
    return answer;
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.worker.once('exit', () => resolve());
      this.worker.on('message', (reply: WorkerReply) => {
        if (reply.type === 'closed') void this.worker.terminate();
      });
      this.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    });
    return this.closed;
  }
}
