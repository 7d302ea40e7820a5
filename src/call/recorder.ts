// Dual-channel call recording: the caller on the left, the gateway on the right, both on the media
// clock. Outbound audio is laid at the point it would play (after what is already queued), and a
// clear cuts the right channel at the moment of the clear, so the file sounds like the call did.
import { FRAME_SAMPLES, SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import { decodeMulawInto } from '../../dsp/mulaw.ts';
import { encodeWav } from '../../dsp/wav.ts';

class GrowableInt16 {
  data = new Int16Array(SAMPLE_RATE_HZ * 30);
  length = 0;

  ensure(n: number): void {
    if (n <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < n) size *= 2;
    const grown = new Int16Array(size);
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }
}

export class DualChannelRecorder {
  private readonly caller = new GrowableInt16();
  private readonly gateway = new GrowableInt16();
  /** Where the next outbound sample plays, in samples. */
  private playhead = 0;
  private readonly maxSamples: number;

  constructor(maxDurationMs = 4 * 60 * 60 * 1000) {
    this.maxSamples = Math.round((maxDurationMs * SAMPLE_RATE_HZ) / 1000);
  }

  /** A decoded inbound frame (advances the clock). */
  addCallerFrame(frame: Int16Array): void {
    const c = this.caller;
    if (c.length + frame.length > this.maxSamples) return;
    c.ensure(c.length + frame.length);
    c.data.set(frame, c.length);
    c.length += frame.length;
  }

  /** Outbound mu-law audio sent now; plays after what is already queued. */
  addGatewayAudio(mulaw: Uint8Array): void {
    const start = Math.max(this.playhead, this.caller.length);
    const end = start + mulaw.length;
    if (end > this.maxSamples) return;
    const g = this.gateway;
    g.ensure(end);
    if (g.length < start) g.data.fill(0, g.length, start);
    decodeMulawInto(mulaw, g.data.subarray(start, end));
    g.length = Math.max(g.length, end);
    this.playhead = end;
  }

  /** Playback cleared now: nothing after this point was heard. */
  clear(): void {
    const now = this.caller.length;
    if (this.gateway.length > now) this.gateway.length = now;
    this.playhead = now;
  }

  durationMs(): number {
    return (Math.max(this.caller.length, this.gateway.length) * 1000) / SAMPLE_RATE_HZ;
  }

  /** 16-bit stereo WAV at 8 kHz. */
  toWav(): Uint8Array {
    const frames = Math.max(this.caller.length, this.gateway.length, FRAME_SAMPLES);
    const interleaved = new Int16Array(frames * 2);
    for (let i = 0; i < frames; i++) {
      interleaved[2 * i] = i < this.caller.length ? (this.caller.data[i] as number) : 0;
      interleaved[2 * i + 1] = i < this.gateway.length ? (this.gateway.data[i] as number) : 0;
    }
    return encodeWav(interleaved, SAMPLE_RATE_HZ, 2);
  }
}
