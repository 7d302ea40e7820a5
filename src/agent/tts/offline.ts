// The offline voice: eSpeak NG in WASM, in-process (a worker thread, see espeakWorker.ts), so the
// gateway can speak with no API keys and when every vendor is down. Its 22.05 kHz output is brought to
// 8 kHz with the shared streaming Resampler and encoded to mu-law. One worker serves all calls; requests
// are serialised there (eSpeak keeps global state) and a cancelled request stops at its next callback.
import { Worker } from 'node:worker_threads';
import { encodeMulawInto } from '../../../dsp/mulaw.ts';
import { Resampler } from '../../../dsp/resample.ts';
import { SAMPLE_RATE_HZ } from '../../../dsp/frame.ts';
import { createError } from '../../errors.ts';
import { AsyncQueue } from '../asyncQueue.ts';
import type { TextToSpeech } from '../providers.ts';
import type { EspeakReply, EspeakRequest } from './espeakWorker.ts';

/** eSpeak NG's output rate (espeak_Initialize reports 22050 Hz for its voices). */
const ESPEAK_RATE_HZ = 22_050;

/**
 * The worker (its WASM engine: ~90 MB resident) is stopped after this long without a request: once a
 * deploy's or a start's prompts are synthesized and on disk, calls play them from the prompt cache and
 * the engine would sit idle in every process. The next request starts it again (≈0.3 s).
 */
const DEFAULT_IDLE_MS = 60_000;

export interface OfflineTtsOptions {
  /** eSpeak voice name, e.g. `en-us`. */
  voice?: string;
  /** Words per minute; eSpeak's default is 175. */
  rateWpm?: number;
  /** Stop the worker after this long with nothing to synthesize (0: never). Default 60 s. */
  idleMs?: number;
}

interface Pending {
  queue: AsyncQueue<Uint8Array>;
  resampler: Resampler;
}

export class OfflineTts implements TextToSpeech {
  readonly name = 'offline-espeak';
  readonly voice: string;
  private readonly rateWpm: number;
  private worker: Worker | undefined;
  private ready: Promise<Worker> | undefined;
  private readonly cancel = new Int32Array(new SharedArrayBuffer(4));
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly idleMs: number;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(opts: OfflineTtsOptions = {}) {
    this.voice = opts.voice ?? 'en-us';
    this.rateWpm = opts.rateWpm ?? 175;
    this.idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
  }

  /** Whether the engine is loaded (tests, memory reports). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Re-arms the idle stop while nothing is pending; a new request disarms it. */
  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (this.idleMs <= 0 || this.pending.size > 0 || this.worker === undefined) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.pending.size === 0) void this.close();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private start(): Promise<Worker> {
    if (this.ready) return this.ready;
    this.ready = new Promise((resolve, reject) => {
      const worker = new Worker(new URL('./espeakWorker.ts', import.meta.url), { workerData: { cancel: this.cancel } });
      // The worker must not keep an otherwise finished process alive.
      worker.unref();
      this.worker = worker;
      worker.on('message', (msg: EspeakReply | { ready: true }) => {
        if ('ready' in msg) {
          resolve(worker);
          return;
        }
        this.onReply(msg);
      });
      worker.on('error', (err: Error) => {
        reject(err);
        this.failAll(err);
      });
      worker.on('exit', (code) => {
        // An idle stop (close) has already let go of this worker, and a new one may be serving since.
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.ready = undefined;
        this.failAll(createError('GW_ERR_TTS_OFFLINE_EXITED', `offline voice worker exited with code ${code}`));
      });
    });
    return this.ready;
  }

  private onReply(msg: EspeakReply): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    if ('samples' in msg) {
      const pcm = p.resampler.process(msg.samples);
      if (pcm.length > 0) p.queue.push(encode(pcm));
    } else if ('done' in msg) {
      const tail = p.resampler.flush();
      if (tail.length > 0) p.queue.push(encode(tail));
      p.queue.end();
      this.pending.delete(msg.id);
      this.armIdle();
    } else {
      p.queue.fail(createError('GW_ERR_TTS_OFFLINE_FAILED', `offline voice failed: ${msg.error}`));
      this.pending.delete(msg.id);
      this.armIdle();
    }
  }

  private failAll(err: unknown): void {
    for (const p of this.pending.values()) p.queue.fail(err);
    this.pending.clear();
  }

  synthesize(text: string, o: { signal: AbortSignal }): AsyncIterable<Uint8Array> {
    const id = this.nextId++;
    const queue = new AsyncQueue<Uint8Array>();
    const onAbort = () => {
      Atomics.store(this.cancel, 0, id);
      this.pending.delete(id);
      queue.end();
      this.armIdle();
    };
    if (o.signal.aborted) {
      queue.end();
      return queue;
    }
    o.signal.addEventListener('abort', onAbort, { once: true });
    this.pending.set(id, { queue, resampler: new Resampler(ESPEAK_RATE_HZ, SAMPLE_RATE_HZ) });
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    this.start().then(
      (worker) => {
        if (this.pending.has(id)) worker.postMessage({ id, text, voice: this.voice, rateWpm: this.rateWpm } satisfies EspeakRequest);
      },
      (err: unknown) => queue.fail(createError('GW_ERR_TTS_OFFLINE_FAILED', 'offline voice could not start', { cause: err })),
    );
    const pending = this.pending;
    return {
      [Symbol.asyncIterator]: () => {
        const it = queue[Symbol.asyncIterator]();
        return {
          next: async () => {
            const r = await it.next();
            if (r.done) o.signal.removeEventListener('abort', onAbort);
            return r;
          },
          return: async () => {
            o.signal.removeEventListener('abort', onAbort);
            if (pending.has(id)) {
              Atomics.store(this.cancel, 0, id);
              pending.delete(id);
              this.armIdle();
            }
            return it.return ? it.return() : { value: undefined, done: true };
          },
        };
      },
    };
  }

  /**
   * Stops the engine now if nothing is being synthesized: once a start's prompts are on disk the
   * process would otherwise hold the ~90 MB engine for the idle period. The next request starts it again.
   */
  async releaseIfIdle(): Promise<void> {
    if (this.pending.size === 0) await this.close();
  }

  /** Stop the worker (process shutdown; tests). */
  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const w = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    if (w) await w.terminate();
  }
}

function encode(pcm: Int16Array): Uint8Array {
  const out = new Uint8Array(pcm.length);
  encodeMulawInto(pcm, out);
  return out;
}
