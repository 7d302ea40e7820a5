// Dual-channel call recording, streamed to storage: the caller on the left, the gateway on the right,
// both on the media clock. Outbound audio is laid at the point it would play (after what is already
// queued) in a bounded ring ahead of the caller's clock, and a clear cuts it at the moment of the
// clear, so the file sounds like the call did. Audio is committed as the caller's clock passes it,
// in one-second blocks handed to an asynchronous writer: the frame path copies samples and never
// waits. A full disk, a write error, a writer falling behind or the size limit stops the recording
// (reported once through onStop), never the call.
import { SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import { decodeMulawInto } from '../../dsp/mulaw.ts';
import type { RecordingFile } from '../recording/storage.ts';
import { WAV_HEADER_BYTES, wavHeader } from '../recording/wavHeader.ts';

const CHANNELS = 2;
const BYTES_PER_FRAME = CHANNELS * 2;
/** Commit granularity: one second of stereo audio per write. */
const BLOCK_SAMPLES = SAMPLE_RATE_HZ;
/** Outbound audio queued ahead of what the caller has heard that is kept (TTS runs ahead of playback). */
const AHEAD_SAMPLES = SAMPLE_RATE_HZ * 120;
/**
 * The ring starts at ~4 s and doubles as audio queues further ahead, up to AHEAD_SAMPLES: a prompt
 * rarely runs more than a few seconds ahead, and a 120 s ring allocated up front cost every call
 * 1.9 MB (most calls, not recorded, never used it at all).
 */
const INITIAL_RING_SAMPLES = 1 << 15;
const EMPTY = new Int16Array(0);

export type RecorderStopReason = 'disk_full' | 'write_failed' | 'size_limit' | 'backlog';

export interface RecorderOptions {
  /** Largest file, header included. Default: 4 hours of audio. */
  maxBytes?: number;
  /** Bytes handed to the writer and not yet written beyond which the recording stops. Default 4 MiB. */
  maxBacklogBytes?: number;
  onStop?: (reason: RecorderStopReason, err?: unknown) => void;
}

export interface RecordingResult {
  bytes: number;
  durationMs: number;
  stopped: RecorderStopReason | null;
}

export class DualChannelRecorder {
  #file: RecordingFile | undefined;
  #state: 'idle' | 'recording' | 'stopped' | 'finished' = 'idle';
  #started = false;
  #stopReason: RecorderStopReason | null = null;
  /** Samples committed (the caller's clock since the recording started). */
  #base = 0;
  /** Gateway samples laid ahead of #base, in a ring indexed by absolute sample position (allocated at start). */
  #ring = EMPTY;
  #aheadLen = 0;
  #playhead = 0;
  #block = EMPTY;
  #blockFrames = 0;
  #written = WAV_HEADER_BYTES;
  #pending = 0;
  #chain: Promise<void> = Promise.resolve();
  readonly #maxBytes: number;
  readonly #maxBacklog: number;
  readonly #onStop: RecorderOptions['onStop'];

  constructor(opts: RecorderOptions = {}) {
    this.#maxBytes = opts.maxBytes ?? WAV_HEADER_BYTES + 4 * 3600 * SAMPLE_RATE_HZ * BYTES_PER_FRAME;
    this.#maxBacklog = opts.maxBacklogBytes ?? 4 * 1024 * 1024;
    this.#onStop = opts.onStop;
  }

  get recording(): boolean {
    return this.#state === 'recording';
  }

  /**
   * Starts recording now (idle until then: the call decides whether to record once its flow is known).
   * The file may still be opening: audio from now on queues behind it.
   */
  start(file: RecordingFile | Promise<RecordingFile>): void {
    if (this.#state !== 'idle') return;
    this.#state = 'recording';
    this.#started = true;
    this.#ring = new Int16Array(INITIAL_RING_SAMPLES);
    this.#block = new Int16Array(BLOCK_SAMPLES * CHANNELS);
    this.#chain = Promise.resolve(file).then(
      (f) => {
        this.#file = f;
      },
      (err: unknown) => this.#stop((err as NodeJS.ErrnoException).code === 'ENOSPC' ? 'disk_full' : 'write_failed', err),
    );
    this.#enqueue(wavHeader(0, CHANNELS, SAMPLE_RATE_HZ), 0);
  }

  /** A decoded inbound frame (advances the clock). */
  addCallerFrame(frame: Int16Array): void {
    if (this.#state !== 'recording') return;
    const ring = this.#ring;
    const size = ring.length;
    for (let i = 0; i < frame.length; i++) {
      const slot = (this.#base + i) % size;
      const k = this.#blockFrames * CHANNELS;
      this.#block[k] = frame[i] as number;
      this.#block[k + 1] = i < this.#aheadLen ? (ring[slot] as number) : 0;
      ring[slot] = 0;
      if (++this.#blockFrames === BLOCK_SAMPLES) this.#flushBlock();
      if (this.#state !== 'recording') return;
    }
    this.#base += frame.length;
    this.#aheadLen = Math.max(0, this.#aheadLen - frame.length);
  }

  /** Outbound mu-law audio sent now; plays after what is already queued. */
  addGatewayAudio(mulaw: Uint8Array): void {
    if (this.#state !== 'recording') return;
    const start = Math.max(this.#playhead, this.#base);
    const offset = start - this.#base;
    const n = Math.min(mulaw.length, AHEAD_SAMPLES - offset);
    if (n <= 0) return;
    if (offset + n > this.#ring.length) this.#grow(offset + n);
    const size = this.#ring.length;
    // Decode into the ring in at most two contiguous pieces.
    const at = start % size;
    const first = Math.min(n, size - at);
    decodeMulawInto(mulaw.subarray(0, first), this.#ring.subarray(at, at + first));
    if (n > first) decodeMulawInto(mulaw.subarray(first, n), this.#ring.subarray(0, n - first));
    this.#playhead = start + n;
    this.#aheadLen = Math.max(this.#aheadLen, offset + n);
  }

  /** Playback cleared now: nothing after this point was heard. */
  clear(): void {
    const size = this.#ring.length;
    for (let i = 0; i < this.#aheadLen; i++) this.#ring[(this.#base + i) % size] = 0;
    this.#aheadLen = 0;
    this.#playhead = this.#base;
  }

  durationMs(): number {
    return ((this.#written - WAV_HEADER_BYTES) / BYTES_PER_FRAME / SAMPLE_RATE_HZ) * 1000;
  }

  /** Writes what remains, completes the header and closes the file. Null if it never started. */
  async finish(): Promise<RecordingResult | null> {
    if (!this.#started || this.#state === 'finished') return null;
    if (this.#state === 'recording') this.#flushBlock();
    if (this.#state === 'recording') this.#state = 'finished';
    await this.#chain;
    const file = this.#file;
    if (file === undefined) return { bytes: 0, durationMs: 0, stopped: this.#stopReason };
    // The header is completed even after a stop: the file holds a valid WAV of what was written.
    await file.write(wavHeader(this.#written - WAV_HEADER_BYTES, CHANNELS, SAMPLE_RATE_HZ), 0).catch(() => undefined);
    await file.close().catch(() => undefined);
    this.#state = 'finished';
    return { bytes: this.#written, durationMs: this.durationMs(), stopped: this.#stopReason };
  }

  /** A larger ring (doubling, up to AHEAD_SAMPLES) holding `needed` samples ahead; what is queued moves with it. */
  #grow(needed: number): void {
    const old = this.#ring;
    let size = old.length;
    while (size < needed) size *= 2;
    const ring = new Int16Array(Math.min(size, AHEAD_SAMPLES));
    for (let i = 0; i < this.#aheadLen; i++) {
      const p = this.#base + i;
      ring[p % ring.length] = old[p % old.length] as number;
    }
    this.#ring = ring;
  }

  #flushBlock(): void {
    if (this.#blockFrames === 0) return;
    const bytes = this.#blockFrames * BYTES_PER_FRAME;
    if (this.#written + bytes > this.#maxBytes) return this.#stop('size_limit');
    if (this.#pending + bytes > this.#maxBacklog) return this.#stop('backlog');
    const block = this.#block;
    this.#block = new Int16Array(BLOCK_SAMPLES * CHANNELS);
    this.#blockFrames = 0;
    this.#enqueue(new Uint8Array(block.buffer, 0, bytes), this.#written);
    this.#written += bytes;
  }

  #enqueue(bytes: Uint8Array, position: number): void {
    this.#pending += bytes.length;
    this.#chain = this.#chain.then(async () => {
      const file = this.#file;
      if (file === undefined || this.#stopReason !== null) {
        this.#pending -= bytes.length;
        return;
      }
      try {
        await file.write(bytes, position);
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code === 'ENOSPC' ? 'disk_full' : 'write_failed';
        // What was counted as written did not reach the disk: the header covers what did.
        this.#written = Math.min(this.#written, position);
        this.#stop(reason, err);
      } finally {
        this.#pending -= bytes.length;
      }
    });
  }

  #stop(reason: RecorderStopReason, err?: unknown): void {
    if (this.#stopReason !== null) return;
    this.#stopReason = reason;
    if (this.#state === 'recording') this.#state = 'stopped';
    this.#onStop?.(reason, err);
  }
}
