// Runs embedded PGlite on its own thread. PGlite is PostgreSQL compiled to WASM: every query runs
// synchronously on the thread that owns it, so on the main thread each batch of call events would
// stall the audio of every call. Here it only speaks the wire protocol: bytes in, bytes out.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { ProtocolBatchBuffer } from './pgliteBatch.ts';

/**
 * One batch of protocol messages: their bytes back to back in one buffer (transferred, not copied),
 * `lengths` says where each ends. The reply has the same shape: every message's answer back to back,
 * `ends[i]` the end offset of message i's answer, and `errors[i]` set where PGlite threw for it.
 */
export type WorkerRequest = { type: 'exec'; id: number; bytes: Uint8Array; lengths: number[] } | { type: 'close' };
export type WorkerReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; bytes: Uint8Array; ends: number[]; errors: Array<string | undefined> }
  | { type: 'closed' };

const port = parentPort;
if (port === null) throw new Error('pgliteWorker must run in a worker thread');
const send = (reply: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

let db: PGlite;
try {
  // PGlite's shared buffers are resident from the start (its whole pool is touched as it opens): the
  // default 128 MB would be most of the process's base. The gateway's writes are appends and its reads
  // index lookups, so 16 MB holds their hot pages; a miss is a read from the OS page cache. Measured
  // against 32 MB: -18 MB resident (WASM memory touched 47 -> 29 MB).
  db = await PGlite.create((workerData as { dataDir: string }).dataDir, { postgresqlconf: ['shared_buffers = 16MB'] });
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  throw err;
}

const out = new ProtocolBatchBuffer();
// PGlite hands each chunk of its answer as a view into its WASM memory: copied at once into the batch.
const onRawData = (chunk: Uint8Array): void => out.append(chunk);

// One protocol exchange at a time, in arrival order (PGlite is a single backend).
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: WorkerRequest) => {
  queue = queue.then(async () => {
    if (msg.type === 'close') {
      await db.close();
      send({ type: 'closed' });
      port.close();
      return;
    }
    // The messages node-postgres sent together (Parse, Bind, Describe, Execute, Sync) come in one
    // request and go back in one reply: one thread hop per query instead of one per message. Each
    // message is still its own protocol exchange, so the answers are exactly what they were. The
    // answers are streamed straight into one reply buffer: PGlite's own raw call would also parse
    // every answer (for its own query API) and copy it twice, and the main thread parses them anyway.
    out.reset();
    const ends: number[] = [];
    const errors: Array<string | undefined> = [];
    let start = 0;
    for (const length of msg.lengths) {
      const bytes = msg.bytes.subarray(start, start + length);
      start += length;
      const mark = out.length;
      try {
        // syncToFs after the whole batch, below, not after each message.
        await db.execProtocolRawStream(bytes, { syncToFs: false, onRawData });
        errors.push(undefined);
      } catch (err) {
        // As before: a message PGlite threw for answers with the error alone.
        out.truncate(mark);
        errors.push(err instanceof Error ? err.message : String(err));
      }
      ends.push(out.length);
    }
    // What PGlite does after every exchange (a no-op on the Node file system, where every write is
    // already in the data folder's files): done once, before the batch is answered, so nothing is
    // acknowledged earlier than before.
    let syncError: string | undefined;
    await db.syncToFs().catch((err: unknown) => {
      syncError = err instanceof Error ? err.message : String(err);
    });
    if (syncError !== undefined) errors.fill(syncError);
    const bytes = out.take();
    send({ type: 'result', id: msg.id, bytes, ends, errors }, [bytes.buffer as ArrayBuffer]);
  });
});
