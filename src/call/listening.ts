// What a call's flow listens for right now, so that detectors only it needs run only meanwhile:
// `keys` — a gather collecting digits, an interruptible prompt (whose keys become a following gather's
// type-ahead), an agent — switches in-band DTMF on; `beep` — a voicemail node waiting for the end of
// a greeting — keeps the beep detector on after AMD has heard the greeting end (call/detectors.ts).
// Carrier `dtmf` messages arrive whatever this says. Counts, not flags: listeners overlap (a gather's
// prompt inside the gather), and a detector stays on until the last one lets go.

export type ListenTarget = 'keys' | 'beep';

export class Listening {
  private readonly counts: Record<ListenTarget, number> = { keys: 0, beep: 0 };
  private readonly watchers: Record<ListenTarget, Set<(listening: boolean) => void>> = { keys: new Set(), beep: new Set() };

  listening(target: ListenTarget): boolean {
    return this.counts[target] > 0;
  }

  /** Listen for `target` until the returned release is called (once; later calls do nothing). */
  listen(target: ListenTarget): () => void {
    if (++this.counts[target] === 1) this.notify(target, true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.counts[target] === 0) this.notify(target, false);
    };
  }

  /** Calls `watch` now with whether anything listens for `target`, then on every change; returns the unwatch. */
  watch(target: ListenTarget, watch: (listening: boolean) => void): () => void {
    this.watchers[target].add(watch);
    watch(this.listening(target));
    return () => this.watchers[target].delete(watch);
  }

  private notify(target: ListenTarget, listening: boolean): void {
    for (const w of this.watchers[target]) w(listening);
  }
}
