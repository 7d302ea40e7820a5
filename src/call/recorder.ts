// Dual-channel call recording, streamed to storage: the caller on the left, the gateway on the right,
// both on the media clock. The call hands each caller frame with the gateway audio the caller heard
// over the same span (outboundQueue.ts: laid where it played, cut at a clear), so the file sounds like
// the call did. Audio is committed in one-second blocks handed to an asynchronous writer: the frame
// path copies samples and never waits. A full disk, a write error, a writer falling behind or the size
// limit stops the recording (reported once through onStop), never the call.
import { SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import { decodeMulawInto } from '../../dsp/mulaw.ts';
import type { RecordingFile } from '../recording/storage.ts';
import { WAV_HEADER_BYTES, wavHeader } from '../recording/wavHeader.ts';

const CHANNELS = 2;
const BYTES_PER_FRAME = CHANNELS * 2;
/** Commit granularity: one second of stereo audio per write. */
const BLOCK_SAMPLES = SAMPLE_RATE_HZ;
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
  #block = EMPTY;
  /** The gateway channel of one frame, decoded (allocated on the first frame). */
  #gateway = EMPTY;
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
    this.#block = new Int16Array(BLOCK_SAMPLES * CHANNELS);
    this.#chain = Promise.resolve(file).then(
      (f) => {
        this.#file = f;
      },
      (err: unknown) => this.#stop((err as NodeJS.ErrnoException).code === 'ENOSPC' ? 'disk_full' : 'write_failed', err),
    );
    this.#enqueue(wavHeader(0, CHANNELS, SAMPLE_RATE_HZ), 0);
  }

  /** A decoded caller frame, with the gateway's mu-law audio the caller heard over the same span. */
  addCallerFrame(frame: Int16Array, gatewayMulaw: Uint8Array): void {
    if (this.#state !== 'recording') return;
    if (this.#gateway.length !== frame.length) this.#gateway = new Int16Array(frame.length);
    const gateway = this.#gateway;
    const heard = decodeMulawInto(gatewayMulaw, gateway);
    for (let i = 0; i < frame.length; i++) {
      const k = this.#blockFrames * CHANNELS;
      this.#block[k] = frame[i] as number;
      this.#block[k + 1] = i < heard ? (gateway[i] as number) : 0;
      if (++this.#blockFrames === BLOCK_SAMPLES) this.#flushBlock();
      if (this.#state !== 'recording') return;
    }
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
