// The carrier's playout buffer, as the replay client models it: audio the gateway sends is queued and
// played at real time (on the replay's media clock), starting when it arrives if nothing is playing; a
// mark is echoed when the audio queued before it has finished (at once if nothing is queued); `clear`
// drops what is queued and echoes every pending mark at once (twilio.com/docs/voice/media-streams/
// websocket-messages, "clear" and "mark"). What was played is kept, time-aligned, as 8 kHz mu-law.
import { SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import { MULAW_SILENCE } from '../../dsp/mulaw.ts';

const SAMPLES_PER_MS = SAMPLE_RATE_HZ / 1000;

export interface MarkEcho {
  name: string;
  /** Media time the mark falls due (its audio finished, or the clear happened). */
  atMs: number;
  /** Echoed because of a clear: not proof that the audio before it was heard. */
  cleared: boolean;
}

export interface ClearResult {
  atMs: number;
  droppedMs: number;
  marks: MarkEcho[];
}

export class CarrierPlayback {
  private out = new Uint8Array(SAMPLE_RATE_HZ * 10).fill(MULAW_SILENCE);
  /** Samples of `out` holding played or scheduled audio. */
  private outLength = 0;
  /** Sample at which the queue runs dry. */
  private queueEnd = 0;
  private pending: Array<{ name: string; atSample: number }> = [];
  private receivedSamples = 0;

  /** Queue mu-law audio that arrived at media time `nowMs`. */
  enqueueAudio(mulaw: Uint8Array, nowMs: number): void {
    const start = Math.max(this.queueEnd, Math.round(nowMs * SAMPLES_PER_MS));
    const end = start + mulaw.length;
    this.ensure(end);
    this.out.set(mulaw, start);
    this.outLength = Math.max(this.outLength, end);
    this.queueEnd = end;
    this.receivedSamples += mulaw.length;
  }

  /** Queue a mark; returns the echo at once when nothing is queued or playing. */
  enqueueMark(name: string, nowMs: number): MarkEcho | undefined {
    const now = Math.round(nowMs * SAMPLES_PER_MS);
    if (this.queueEnd <= now) return { name, atMs: nowMs, cleared: false };
    this.pending.push({ name, atSample: this.queueEnd });
    return undefined;
  }

  /** Marks whose audio has finished by `nowMs`, in order. */
  dueMarks(nowMs: number): MarkEcho[] {
    const now = nowMs * SAMPLES_PER_MS;
    let n = 0;
    while (n < this.pending.length && (this.pending[n] as { atSample: number }).atSample <= now) n++;
    if (n === 0) return [];
    return this.pending.splice(0, n).map((m) => ({ name: m.name, atMs: m.atSample / SAMPLES_PER_MS, cleared: false }));
  }

  /** Media time the next pending mark falls due, if any. */
  nextMarkDueMs(): number | undefined {
    const first = this.pending[0];
    return first === undefined ? undefined : first.atSample / SAMPLES_PER_MS;
  }

  /** Drop queued audio and echo all pending marks. */
  clear(nowMs: number): ClearResult {
    const now = Math.round(nowMs * SAMPLES_PER_MS);
    const dropped = Math.max(0, this.queueEnd - now);
    if (dropped > 0) {
      this.out.fill(MULAW_SILENCE, now, this.queueEnd);
      this.outLength = Math.min(this.outLength, now);
      this.queueEnd = now;
    }
    const marks = this.pending.map((m) => ({ name: m.name, atMs: nowMs, cleared: true }));
    this.pending = [];
    return { atMs: nowMs, droppedMs: dropped / SAMPLES_PER_MS, marks };
  }

  isPlaying(nowMs: number): boolean {
    return this.queueEnd > Math.round(nowMs * SAMPLES_PER_MS);
  }

  /** Media time at which the queued audio will have played out. */
  queueEndMs(): number {
    return this.queueEnd / SAMPLES_PER_MS;
  }

  /** Total audio received from the gateway, including what a clear dropped. */
  receivedMs(): number {
    return this.receivedSamples / SAMPLES_PER_MS;
  }

  /** What the caller heard up to `endMs` (the stream's end), time-aligned from the stream start. */
  heardAudio(endMs: number): Uint8Array {
    const end = Math.min(this.outLength, Math.round(endMs * SAMPLES_PER_MS));
    return this.out.slice(0, Math.max(0, end));
  }

  private ensure(samples: number): void {
    if (samples <= this.out.length) return;
    let size = this.out.length;
    while (size < samples) size *= 2;
    const grown = new Uint8Array(size).fill(MULAW_SILENCE);
    grown.set(this.out.subarray(0, this.outLength));
    this.out = grown;
  }
}
