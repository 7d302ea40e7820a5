// A speech-to-text stand-in scripted against the media clock, shared by the agent and flow tests. It
// is fed the call's mu-law like the real adapter and releases events as the audio it has received
// reaches their time, so tests can assert exact turn-taking (the real adapter is tested against the
// fake realtime server in tests/agent/stt.test.ts). Two ways to script it:
//   at(atMs, event)   — an event at an absolute media time, on whichever stream is open then;
//   script.push(...)  — per opened stream, in order: an utterance `afterMs` after the stream's first
//                       audio (speech_started, then its final 400 ms later), or null for silence.
import { AsyncQueue } from '../../src/agent/asyncQueue.ts';
import type { SpeechToText, SttEvent, SttStream } from '../../src/agent/providers.ts';

/** How long after an utterance's speech_started its final comes (per-stream script). */
const FINAL_AFTER_MS = 400;

export class ScriptedStt implements SpeechToText {
  readonly name = 'scripted';
  readonly script: Array<{ afterMs: number; text: string } | null> = [];
  private timeline: { atMs: number; event: SttEvent }[] = [];
  bytesReceived = 0;
  opened = 0;
  closed = 0;

  /** Release `event` once media time `atMs` has been received. */
  at(atMs: number, event: SttEvent): void {
    this.timeline.push({ atMs, event });
    this.timeline.sort((a, b) => a.atMs - b.atMs);
  }

  open(o: { signal: AbortSignal; language?: string }): SttStream {
    const utterance = this.script.shift() ?? null;
    this.opened++;
    const queue = new AsyncQueue<SttEvent>();
    let startMs: number | undefined;
    let stage = 0;
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      this.closed++;
      queue.end();
    };
    o.signal.addEventListener('abort', close, { once: true });
    return {
      write: (mulaw, atMs) => {
        if (closed) return;
        this.bytesReceived += mulaw.length;
        const now = atMs + mulaw.length / 8;
        while (this.timeline.length > 0 && this.timeline[0]!.atMs <= now) queue.push(this.timeline.shift()!.event);
        startMs ??= atMs;
        if (utterance === null) return;
        if (stage === 0 && atMs - startMs >= utterance.afterMs) {
          stage = 1;
          queue.push({ type: 'speech_started', atMs });
        } else if (stage === 1 && atMs - startMs >= utterance.afterMs + FINAL_AFTER_MS) {
          stage = 2;
          queue.push({ type: 'final', text: utterance.text });
        }
      },
      close,
      [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator](),
    };
  }
}
