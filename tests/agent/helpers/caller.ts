// The caller's side of a test call: speech is a tone fed on the media clock, with the detector events
// (speech.started / speech.stopped) that src/call/detectors.ts would emit for it, and the transcript
// scripted on the STT stand-in. Silence advances the clock and lets the carrier play what was sent.
import { SAMPLE_RATE_HZ } from '../../../dsp/frame.ts';
import type { TestCall } from '../../helpers/testCall.ts';
import type { ScriptedStt } from '../../fakes/scriptedStt.ts';

export function tone(ms: number, hz = 220, amplitude = 6000): Int16Array {
  const n = Math.round((ms * SAMPLE_RATE_HZ) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE_HZ));
  return out;
}

export class Caller {
  readonly call: TestCall;
  readonly stt: ScriptedStt;

  constructor(call: TestCall, stt: ScriptedStt) {
    this.call = call;
    this.stt = stt;
  }

  now(): number {
    return this.call.session.mediaMs();
  }

  /** Speak for `ms`; the final transcript arrives `finalAfterMs` after the speech ends. */
  async say(text: string | undefined, ms: number, finalAfterMs = 150): Promise<{ startMs: number; endMs: number }> {
    const startMs = this.now();
    if (text !== undefined) this.stt.at(startMs + ms + finalAfterMs, { type: 'final', text });
    this.call.session.emit({ type: 'speech.started', atMs: startMs });
    await this.call.feed(tone(ms));
    const endMs = this.now();
    this.call.session.emit({ type: 'speech.stopped', atMs: endMs, durationMs: endMs - startMs });
    return { startMs, endMs };
  }

  async silence(ms: number): Promise<void> {
    await this.call.feedSilence(ms);
  }

  /** Feed silence until `pred` holds (or `maxMs` of media time pass); `paceMs` of wall time per frame. */
  async silenceUntil(pred: () => boolean, maxMs = 20_000, paceMs = 0): Promise<void> {
    for (let t = 0; t < maxMs && !pred(); t += 20) {
      await this.call.feedSilence(20);
      if (paceMs > 0) await new Promise((r) => setTimeout(r, paceMs));
    }
    if (!pred()) throw new Error(`condition not reached within ${maxMs} ms of media time`);
  }
}
