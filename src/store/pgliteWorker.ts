// Runs embedded PGlite on its own thread. PGlite is PostgreSQL compiled to WASM: every query runs
// synchronously on the thread that owns it, so on the main thread each batch of call events would
// stall the audio of every call. Here it only speaks the wire protocol: bytes in, bytes out.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

/** One protocol message's answer: its bytes, or why PGlite threw. */
export type ExecOutcome = { bytes: Uint8Array } | { error: string };
export type WorkerRequest = { type: 'exec'; id: number; items: Uint8Array[] } | { type: 'close' };
export type WorkerReply = { type: 'ready' } | { type: 'failed'; message: string } | { type: 'result'; id: number; outcomes: ExecOutcome[] } | { type: 'closed' };

const port = parentPort;
if (port === null) throw new Error('pgliteWorker must run in a worker thread');
const send = (reply: WorkerReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);

let db: PGlite;
try {
  // PGlite's default 128 MB of shared buffers is most of its resident memory, for a database of a few
  // tables written in batches: 32 MB keeps the hot pages and saves ~80–100 MB of the process's base.
  db = await PGlite.create((workerData as { dataDir: string }).dataDir, { postgresqlconf: ['shared_buffers = 32MB'] });
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'failed', message: err instanceof Error ? err.message : String(err) });
  throw err;
}

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
    // message is still its own protocol exchange, so the answers are exactly what they were.
    const outcomes: ExecOutcome[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const bytes of msg.items) {
      try {
        // The result may be a view into WASM memory: copy it before handing its buffer over.
        const out = (await db.execProtocolRaw(bytes)).slice();
        outcomes.push({ bytes: out });
        transfer.push(out.buffer);
      } catch (err) {
        outcomes.push({ error: err instanceof Error ? err.message : String(err) });
      }
    }
    send({ type: 'result', id: msg.id, outcomes }, transfer);
  });
});
