// Outbound audio with marks, not guesses (DESIGN decision 3). Audio goes to the carrier as soon as it
// is produced, in chunks each followed by a mark; the carrier buffers and plays in order and echoes a
// mark when the audio before it has played. The echoes are what the caller heard. `clear` empties the
// carrier's buffer, and the marks it echoes after a clear are NOT proof of playback, so they are
// forgotten at the moment we send the clear.
import { SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import type { Playback, PlaybackResult, PlaybackWriter, PlayOptions } from './control.ts';
import type { CallEvent } from './events.ts';

export interface PlayoutSink {
  sendMedia(mulaw: Uint8Array): void;
  sendMark(name: string): void;
  sendClear(): void;
}

export interface PlayoutOptions {
  /** Audio per media message; one mark follows each. 100 ms bounds what "heard" can miss. */
  chunkMs?: number;
  nowMs: () => number;
  emit: (event: CallEvent) => void;
  /** Every chunk as it is sent (for the recorder). */
  onAudio?: (mulaw: Uint8Array) => void;
  onClear?: () => void;
}

const bytesToMs = (bytes: number): number => (bytes * 1000) / SAMPLE_RATE_HZ;

class PlaybackState implements PlaybackWriter {
  readonly id: string;
  readonly label: string;
  readonly done: Promise<PlaybackResult>;
  sentBytes = 0;
  heardBytes = 0;
  pendingMarks = 0;
  ended = false;
  settled = false;
  private resolve!: (r: PlaybackResult) => void;
  private readonly playout: Playout;

  constructor(playout: Playout, id: string, label: string) {
    this.playout = playout;
    this.id = id;
    this.label = label;
    this.done = new Promise((r) => (this.resolve = r));
  }

  write(mulaw: Uint8Array): void {
    if (this.ended || this.settled) return; // cleared or finished: late audio is dropped
    this.playout.send(this, mulaw);
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.playout.maybeSettle(this);
  }

  settle(interrupted: boolean): PlaybackResult | undefined {
    if (this.settled) return undefined;
    this.settled = true;
    this.ended = true;
    const result = { heardMs: bytesToMs(this.heardBytes), audioMs: bytesToMs(this.sentBytes), interrupted };
    this.resolve(result);
    return result;
  }
}

export class Playout {
  private readonly sink: PlayoutSink;
  private readonly opts: PlayoutOptions;
  private readonly chunkBytes: number;
  /** Marks sent and not yet echoed, in send order. */
  private readonly pending = new Map<string, { playback: PlaybackState; bytes: number }>();
  private readonly active = new Set<PlaybackState>();
  private nextId = 1;
  private nextMark = 1;

  constructor(sink: PlayoutSink, opts: PlayoutOptions) {
    this.sink = sink;
    this.opts = opts;
    const chunkMs = opts.chunkMs ?? 100;
    if (!(chunkMs >= 20 && chunkMs <= 1000)) throw new RangeError(`playout chunkMs must be 20..1000 (got ${chunkMs})`);
    this.chunkBytes = Math.round((chunkMs * SAMPLE_RATE_HZ) / 1000);
  }

  play(mulaw: Uint8Array, opts: PlayOptions = {}): Playback {
    const writer = this.open(opts);
    writer.write(mulaw);
    writer.end();
    return writer;
  }

  open(opts: PlayOptions = {}): PlaybackWriter {
    const id = `p${this.nextId++}`;
    const playback = new PlaybackState(this, id, opts.label ?? id);
    this.active.add(playback);
    return playback;
  }

  isPlaying(): boolean {
    return this.active.size > 0;
  }

  /** @internal used by PlaybackState */
  send(playback: PlaybackState, mulaw: Uint8Array): void {
    if (mulaw.length === 0) return;
    if (playback.sentBytes === 0) {
      this.opts.emit({ type: 'playout.started', atMs: this.opts.nowMs(), playbackId: playback.id, label: playback.label, audioMs: bytesToMs(mulaw.length) });
    }
    for (let off = 0; off < mulaw.length; off += this.chunkBytes) {
      const chunk = mulaw.subarray(off, Math.min(mulaw.length, off + this.chunkBytes));
      this.sink.sendMedia(chunk);
      this.opts.onAudio?.(chunk);
      const name = `${playback.id}.${this.nextMark++}`;
      this.pending.set(name, { playback, bytes: chunk.length });
      playback.pendingMarks++;
      playback.sentBytes += chunk.length;
      this.sink.sendMark(name);
    }
  }

  /** The carrier echoed a mark. Unknown names (ours before a clear, or foreign) are ignored. */
  onMark(name: string): void {
    const entry = this.pending.get(name);
    if (entry === undefined) return;
    this.pending.delete(name);
    entry.playback.heardBytes += entry.bytes;
    entry.playback.pendingMarks--;
    this.maybeSettle(entry.playback);
  }

  /** @internal */
  maybeSettle(playback: PlaybackState): void {
    if (!playback.ended || playback.pendingMarks > 0 || playback.settled) return;
    // A playback that never sent audio (empty TTS) finishes without a trace in the timeline.
    this.finish(playback, false);
  }

  clear(reason: string): void {
    if (this.active.size === 0 && this.pending.size === 0) return;
    this.sink.sendClear();
    this.opts.onClear?.();
    this.pending.clear();
    this.opts.emit({ type: 'playout.cleared', atMs: this.opts.nowMs(), reason });
    for (const playback of [...this.active]) this.finish(playback, true);
  }

  /** The call ended: settle everything as interrupted, send nothing. */
  close(): void {
    this.pending.clear();
    for (const playback of [...this.active]) this.finish(playback, true);
  }

  private finish(playback: PlaybackState, interrupted: boolean): void {
    this.active.delete(playback);
    const result = playback.settle(interrupted);
    if (result === undefined || playback.sentBytes === 0) return;
    this.opts.emit({
      type: 'playout.finished',
      atMs: this.opts.nowMs(),
      playbackId: playback.id,
      label: playback.label,
      heardMs: result.heardMs,
      audioMs: result.audioMs,
      interrupted,
    });
  }
}
