// One assistant turn's audio on its way to the caller, sentence by sentence. Audio is written to the
// call as soon as it is synthesized (the carrier buffers it; marks tell what was heard). On a possible
// barge-in the utterance is paused: `clear` drops what the carrier holds and the heard position is
// taken from the marks. If the interruption turns out to be false (a backchannel, a cough), `resume`
// replays from the start of the sentence the caller was hearing, so the sentence is heard whole;
// audio synthesized while paused was kept and goes out with it. Otherwise the turn is cut to what was
// heard (heardText.ts).
import type { CallControl, PlaybackWriter } from '../../call/control.ts';
import type { SpokenSentence } from './heardText.ts';

const BYTES_PER_MS = 8; // 8 kHz mu-law

interface SentenceAudio extends SpokenSentence {
  chunks: Uint8Array[];
  bytes: number;
  startByte: number;
  done: boolean;
}

export class Utterance {
  readonly label: string;
  private readonly call: CallControl;
  private readonly sentences: SentenceAudio[] = [];
  private totalBytes = 0;
  private writer: PlaybackWriter | undefined;
  /** Byte offset in this utterance where the current writer's audio starts. */
  private writerStartByte = 0;
  /** Heard position, in bytes, as of the last pause. */
  private heardBytes = 0;
  private paused = false;
  private finished = false;
  private cancelled = false;
  private firstAudioListener: (() => void) | undefined;
  private sentFirst = false;

  constructor(call: CallControl, label: string, onFirstAudio?: () => void) {
    this.call = call;
    this.label = label;
    this.firstAudioListener = onFirstAudio;
  }

  /** Start a sentence; returns its index. */
  beginSentence(text: string): number {
    this.sentences.push({ text, startMs: this.totalBytes / BYTES_PER_MS, durationMs: 0, chunks: [], bytes: 0, startByte: this.totalBytes, done: false });
    return this.sentences.length - 1;
  }

  /** Replace a sentence's text (token streaming learns it after its audio may have started). */
  setText(index: number, text: string): void {
    const s = this.sentences[index];
    if (s) s.text = text;
  }

  write(index: number, chunk: Uint8Array): void {
    if (this.cancelled) return;
    const s = this.sentences[index];
    if (!s) return;
    // Audio arrives in sentence order, so a chunk always extends the tail of the utterance; a
    // sentence's audio starts where the utterance stood when its first chunk came.
    if (s.bytes === 0) {
      s.startByte = this.totalBytes;
      s.startMs = this.totalBytes / BYTES_PER_MS;
    }
    s.chunks.push(chunk);
    s.bytes += chunk.length;
    s.durationMs = s.bytes / BYTES_PER_MS;
    this.totalBytes += chunk.length;
    if (!this.paused) this.send(chunk);
  }

  endSentence(index: number): void {
    const s = this.sentences[index];
    if (s) s.done = true;
  }

  /** No more sentences: the playback ends once everything written has been heard. */
  finish(): void {
    this.finished = true;
    if (!this.paused) this.writer?.end();
  }

  private send(chunk: Uint8Array): void {
    if (!this.writer) {
      this.writer = this.call.openPlayback({ label: this.label });
      this.writerStartByte = this.totalBytes - chunk.length;
    }
    this.writer.write(chunk);
    if (!this.sentFirst) {
      this.sentFirst = true;
      this.firstAudioListener?.();
      this.firstAudioListener = undefined;
    }
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get audioMs(): number {
    return this.totalBytes / BYTES_PER_MS;
  }

  get hasAudio(): boolean {
    return this.totalBytes > 0;
  }

  /** Barge-in: clear the carrier at once; resolves with the heard position (ms of this utterance). */
  async pause(reason: string): Promise<number> {
    if (this.paused || this.cancelled) return this.heardBytes / BYTES_PER_MS;
    this.paused = true;
    const writer = this.writer;
    this.writer = undefined;
    // Clear only when something is queued at the carrier (ours or a filler): a clear is not free.
    if (writer || this.call.isPlaying()) this.call.clear(reason);
    if (writer) {
      const result = await writer.done;
      this.heardBytes = Math.max(this.heardBytes, this.writerStartByte + Math.round(result.heardMs * BYTES_PER_MS));
    }
    return this.heardBytes / BYTES_PER_MS;
  }

  /** False interruption: play again from the start of the sentence that was being heard. */
  resume(): void {
    if (!this.paused || this.cancelled) return;
    this.paused = false;
    const from = this.sentences.find((s) => s.bytes > 0 && this.heardBytes < s.startByte + s.bytes);
    if (!from) {
      // Everything written had been heard; only audio still to come will go out.
      this.writerStartByte = this.totalBytes;
      if (this.finished) this.writer = undefined;
      return;
    }
    this.heardBytes = from.startByte;
    for (let i = this.sentences.indexOf(from); i < this.sentences.length; i++) {
      for (const c of this.sentences[i]!.chunks) this.send(c);
    }
    if (this.finished) this.writer?.end();
  }

  /** Stop for good (confirmed barge-in, node end): nothing more is written. */
  cancel(): void {
    this.cancelled = true;
    // What was already sent plays out (or was cleared); the playback must still end, or the call
    // would count it as playing forever.
    this.writer?.end();
    this.writer = undefined;
  }

  /** Resolves once the current playback is heard in full or cleared; the heard position in ms. */
  async settled(): Promise<{ heardMs: number; interrupted: boolean }> {
    const writer = this.writer;
    if (!writer) return { heardMs: this.heardBytes / BYTES_PER_MS, interrupted: this.paused || this.cancelled };
    const r = await writer.done;
    if (writer === this.writer || !r.interrupted) this.heardBytes = Math.max(this.heardBytes, this.writerStartByte + Math.round(r.heardMs * BYTES_PER_MS));
    return { heardMs: this.heardBytes / BYTES_PER_MS, interrupted: r.interrupted };
  }

  spoken(): readonly SpokenSentence[] {
    return this.sentences;
  }

  heardMs(): number {
    return this.heardBytes / BYTES_PER_MS;
  }
}
