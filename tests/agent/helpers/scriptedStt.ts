// A speech-to-text stand-in whose transcripts are scripted against the media clock: it is fed the
// call's mu-law like the real adapter and releases each event once the audio it has received reaches
// the event's time. Deterministic, so session tests can assert exact turn-taking (the real adapter is
// tested against the fake realtime server in stt.test.ts, and end-to-end in session.test.ts).
import { AsyncQueue } from '../../../src/agent/asyncQueue.ts';
import type { SpeechToText, SttEvent, SttStream } from '../../../src/agent/providers.ts';

export class ScriptedStt implements SpeechToText {
  readonly name = 'scripted';
  private script: { atMs: number; event: SttEvent }[] = [];
  bytesReceived = 0;

  /** Release `event` once media time `atMs` has been received. */
  at(atMs: number, event: SttEvent): void {
    this.script.push({ atMs, event });
    this.script.sort((a, b) => a.atMs - b.atMs);
  }

  open(o: { signal: AbortSignal }): SttStream {
    const queue = new AsyncQueue<SttEvent>();
    o.signal.addEventListener('abort', () => queue.end(), { once: true });
    return {
      write: (mulaw, atMs) => {
        this.bytesReceived += mulaw.length;
        const now = atMs + mulaw.length / 8;
        while (this.script.length > 0 && this.script[0]!.atMs <= now) queue.push(this.script.shift()!.event);
      },
      close: () => queue.end(),
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
    };
  }
}
