// node-postgres ⇄ embedded PGlite (in-process or on a worker thread, see pgliteThread.ts), in place
// of `@electric-sql/pglite/node-postgres`. That adapter (0.5.16) has three flaws that break a pg.Pool as soon as one query fails, and a store must expect
// failing queries (a unique violation, a bad cursor…):
//
// 1. PGlite answers a failing extended-protocol message (Parse, Bind, Execute…) with ErrorResponse
//    *and* ReadyForQuery at once, then again ReadyForQuery at the Sync (electric-sql/pglite#958,
//    "Premature ReadyForQuery"). node-postgres takes the second one as the end of the *next* query,
//    which then resolves with no rows, and every later query receives its predecessor's result. A
//    real server answers ReadyForQuery only to Sync, Query and the end of a COPY (PostgreSQL
//    protocol docs, "Extended Query": after an error the backend "reads and discards messages until
//    a Sync is reached, then issues ReadyForQuery"), so answers to any other message drop it.
// 2. pg.Pool destroys a client whose query failed and opens a new one. The adapter hands every
//    client the same connection object, whose delayed 'end' then kills the new client ("Connection
//    terminated unexpectedly"). Here each client gets its own connection object.
// 3. With one connection object per client, the dead client's last messages (the Sync after the
//    error) could interleave with the new client's. All connections of one engine therefore share
//    one queue, ordered by the time node-postgres *sent* each message.
//
// A closed connection also ends its session the way a server does on disconnect: an open
// transaction is rolled back and session state (advisory locks, prepared statements, settings) is
// discarded, so the next client of the single PGlite backend starts clean.
import { EventEmitter } from 'node:events';
import pg from 'pg';
import { serialize } from 'pg-protocol';

type Serialize = typeof serialize;

/** A backend message as parsed by pg-protocol (ReadyForQuery carries the transaction status). */
export interface PgliteBackendMessage {
  name: string;
  status?: string;
  /** NotificationResponse (LISTEN/NOTIFY). */
  channel?: string;
  payload?: string;
}

/** What we need of PGlite: PGlite itself, or PgliteThread which runs it on a worker. */
export interface PgliteEngine {
  readonly waitReady: Promise<void>;
  execProtocolStream(bytes: Uint8Array, opts?: { throwOnError?: boolean }): Promise<readonly PgliteBackendMessage[]>;
  /**
   * Several protocol messages, each its own exchange, in one hop (PgliteThread: one message to the
   * worker per query instead of one per protocol message). Without it they go one by one.
   */
  execProtocolBatch?(items: Uint8Array[]): Promise<Array<readonly PgliteBackendMessage[] | Error>>;
}

/** Gets one protocol message's answers, or the error the engine threw for it. */
type Deliver = (answers: readonly PgliteBackendMessage[] | Error) => void;

// Frontend message type bytes (PostgreSQL docs, "Message Formats") that a server answers with
// ReadyForQuery: Sync 'S', Query 'Q', CopyDone 'c', CopyFail 'f'.
const READY_AFTER = new Set(['S', 'Q', 'c', 'f'].map((c) => c.charCodeAt(0)));

/** The one engine and the queue every connection to it sends through. */
export class PgliteWire {
  readonly engine: PgliteEngine;
  #tail: Promise<void> = Promise.resolve();
  /** Transaction status of the last ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' failed one. */
  #txStatus = 'I';
  /**
   * Channels the (single) backend LISTENs on for the change feed. DISCARD ALL (a closed connection)
   * unlistens everything, so they are listened to again right after it.
   */
  readonly listening = new Set<string>();
  /** Receives the notifications the backend delivers, whichever connection's exchange carried them. */
  onNotification: ((channel: string, payload: string) => void) | undefined;

  constructor(engine: PgliteEngine) {
    this.engine = engine;
  }

  get inTransaction(): boolean {
    return this.#txStatus !== 'I';
  }

  /** Queues a task after everything queued so far. Tasks never reject (they report through callbacks). */
  enqueue(task: () => Promise<void>): void {
    // Messages sent after this task must not join a batch queued before it.
    this.#batch = undefined;
    this.#tail = this.#tail.then(task);
  }

  /** Messages sent since the last queued exchange began, waiting to go to the engine together. */
  #batch: Array<{ bytes: Uint8Array; deliver: Deliver }> | undefined;

  /**
   * Queues a protocol message after everything queued so far. Messages sent together (node-postgres
   * writes a query's Parse, Bind, Describe, Execute and Sync at once) go to the engine in one batch;
   * each still gets its own answers, in order.
   */
  send(bytes: Uint8Array, deliver: Deliver): void {
    if (this.#batch === undefined) {
      const batch: Array<{ bytes: Uint8Array; deliver: Deliver }> = [];
      this.#batch = batch;
      this.#tail = this.#tail.then(async () => {
        if (this.#batch === batch) this.#batch = undefined;
        const results = await this.#execMany(batch.map((b) => b.bytes)).catch((err: unknown) => batch.map(() => (err instanceof Error ? err : new Error(String(err)))));
        batch.forEach((b, i) => b.deliver(results[i] ?? new Error('PGlite gave no answer')));
      });
    }
    this.#batch.push({ bytes, deliver });
  }

  async #execMany(items: Uint8Array[]): Promise<Array<readonly PgliteBackendMessage[] | Error>> {
    if (this.engine.execProtocolBatch === undefined || items.length === 1) {
      const out: Array<readonly PgliteBackendMessage[] | Error> = [];
      for (const bytes of items) out.push(await this.exec(bytes).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))));
      return out;
    }
    const raw = await this.engine.execProtocolBatch(items);
    return raw.map((answers, i) => (answers instanceof Error ? answers : this.#answered(items[i] as Uint8Array, answers)));
  }

  async exec(bytes: Uint8Array): Promise<readonly PgliteBackendMessage[]> {
    return this.#answered(bytes, await this.engine.execProtocolStream(bytes, { throwOnError: false }));
  }

  /** What a real server would have answered to `bytes`: notifications taken out, premature ReadyForQuery dropped. */
  #answered(bytes: Uint8Array, raw: readonly PgliteBackendMessage[]): readonly PgliteBackendMessage[] {
    let answers = raw;
    if (answers.some((m) => m.name === 'notification')) {
      for (const m of answers) if (m.name === 'notification') this.onNotification?.(m.channel ?? '', m.payload ?? '');
      answers = answers.filter((m) => m.name !== 'notification');
    }
    const kind = bytes[0];
    if (kind === undefined || !READY_AFTER.has(kind)) return answers.filter((m) => m.name !== 'readyForQuery');
    for (const m of answers) if (m.name === 'readyForQuery' && m.status !== undefined) this.#txStatus = m.status;
    return answers;
  }
}

/** Implements the part of pg's Connection that pg.Client uses, over a PgliteWire. */
export class PgliteConnection extends EventEmitter {
  readonly #wire: PgliteWire;
  #ended = false;
  _connecting = false;
  parsedStatements: Record<string, string> = {};
  submittedNamedStatements: Record<string, string> = {};
  readonly stream = { destroy: (): void => this.end() };

  constructor(wire: PgliteWire) {
    super();
    this.#wire = wire;
  }

  connect(_port: number, _host: string): void {
    this._connecting = true;
    // pg.Client treats the first ReadyForQuery as "connected" (no startup/authentication here).
    this.#wire.engine.waitReady.then(
      () => process.nextTick(() => this.emit('readyForQuery', { name: 'readyForQuery', length: 5, status: 'I' })),
      (err: unknown) => this.emit('error', err),
    );
  }

  requestSsl(): void {}
  startup(_config: unknown): void {}
  cancel(_processId: number, _secretKey: number): void {}
  password(_password: string): void {}
  ref(): void {}
  unref(): void {}

  sendSASLInitialResponseMessage(mechanism: string, initialResponse: string): void {
    this.#send(serialize.sendSASLInitialResponseMessage(mechanism, initialResponse));
  }
  sendSCRAMClientFinalMessage(additionalData: string): void {
    this.#send(serialize.sendSCRAMClientFinalMessage(additionalData));
  }
  query(text: string): void {
    this.#send(serialize.query(text));
  }
  parse(query: Parameters<Serialize['parse']>[0]): void {
    this.#send(serialize.parse(query));
  }
  bind(config: Parameters<Serialize['bind']>[0]): void {
    this.#send(serialize.bind(config));
  }
  execute(config: Parameters<Serialize['execute']>[0]): void {
    this.#send(serialize.execute(config));
  }
  describe(msg: Parameters<Serialize['describe']>[0]): void {
    this.#send(serialize.describe(msg));
  }
  close(msg: Parameters<Serialize['close']>[0]): void {
    this.#send(serialize.close(msg));
  }
  flush(): void {
    this.#send(serialize.flush());
  }
  sync(): void {
    this.#send(serialize.sync());
  }
  sendCopyFromChunk(chunk: Buffer): void {
    this.#send(serialize.copyData(chunk));
  }
  endCopyFrom(): void {
    this.#send(serialize.copyDone());
  }
  sendCopyFail(message: string): void {
    this.#send(serialize.copyFail(message));
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const wire = this.#wire;
    wire.enqueue(async () => {
      try {
        if (wire.inTransaction) await wire.exec(serialize.query('ROLLBACK'));
        await wire.exec(serialize.query('DISCARD ALL'));
        for (const channel of wire.listening) await wire.exec(serialize.query(`LISTEN ${channel}`));
      } catch {
        // The engine is gone; there is no session left to clean.
      }
      process.nextTick(() => {
        this.emit('end');
        this.removeAllListeners();
      });
    });
  }

  #send(bytes: Uint8Array): void {
    // Messages of a connection that has ended still run (e.g. the Sync that closes a failed
    // query) so the backend's protocol state stays consistent; nobody hears their answers.
    this.#wire.send(bytes, (answers) => {
      if (answers instanceof Error) {
        if (!this.#ended) this.emit('error', answers);
        return;
      }
      if (this.#ended) return;
      const tap = this.listenerCount('message') > 0;
      for (const m of answers) {
        if (tap) this.emit('message', m);
        this.emit(m.name === 'error' ? 'errorMessage' : m.name, m);
      }
    });
  }
}

/**
 * Names for the parameterized queries sent to one PGlite backend, so that each is parsed and planned
 * once per session and then only bound and executed (node-postgres prepares a query that has a
 * `name` once per connection). PGlite's work is this process's CPU: a prepared statement halves it
 * for the event log's INSERT (0.61 -> 0.29 ms on PGlite's thread, 0.20 -> 0.14 ms on the main
 * thread) and takes a third off an UPDATE. Names are per text, so different texts never share one;
 * the set is bounded (each statement keeps a plan in PGlite's memory), texts beyond it run unnamed as
 * before. A closed connection's session is discarded (DISCARD ALL) with its statements, and the next
 * connection object starts with none parsed, as node-postgres expects.
 */
export class StatementNames {
  readonly #names = new Map<string, string>();
  readonly #max: number;

  constructor(max = 256) {
    this.#max = max;
  }

  get size(): number {
    return this.#names.size;
  }

  /** The query config to run instead of `config`, with a statement name; undefined to run it as it is. */
  named(config: unknown, values: unknown): pg.QueryConfig | undefined {
    let query: pg.QueryConfig;
    if (typeof config === 'string') {
      query = { text: config };
    } else if (typeof config === 'object' && config !== null && typeof (config as { text?: unknown }).text === 'string' && typeof (config as { submit?: unknown }).submit !== 'function') {
      query = config as pg.QueryConfig;
      if (query.name !== undefined) return undefined;
    } else {
      return undefined;
    }
    // Without values node-postgres uses the simple protocol, which also runs several statements in
    // one text (migrations): those stay as they are.
    if (!Array.isArray(values) && !Array.isArray(query.values)) return undefined;
    let name = this.#names.get(query.text);
    if (name === undefined) {
      if (this.#names.size >= this.#max) return undefined;
      name = `gw_${this.#names.size}`;
      this.#names.set(query.text, name);
    }
    return { ...query, name };
  }
}

/** A pg.Pool over one PGlite engine: one client at a time, each on a fresh connection object. */
export function createPglitePool(engine: PgliteEngine, wire: PgliteWire = new PgliteWire(engine), names: StatementNames = new StatementNames()): pg.Pool {
  class PgliteClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connection: new PgliteConnection(wire) } as pg.ClientConfig);
      const query = this.query.bind(this) as (...args: unknown[]) => unknown;
      // Every query of the pool goes through here (pool.query and checked-out clients alike).
      (this as unknown as { query: (...args: unknown[]) => unknown }).query = (config: unknown, ...rest: unknown[]) => query(names.named(config, rest[0]) ?? config, ...rest);
    }
  }
  return new pg.Pool({
    Client: PgliteClient,
    // Nothing is dialled; these only satisfy pg's connection-parameter parsing.
    host: 'localhost',
    port: 5432,
    user: 'postgres',
    database: 'postgres',
    password: 'unused',
    // PGlite is one backend: one client at a time, so queries and transactions serialize.
    // idleTimeoutMillis 0 keeps that client instead of recycling it.
    max: 1,
    idleTimeoutMillis: 0,
  });
}
