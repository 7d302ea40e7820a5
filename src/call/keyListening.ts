// Whether anything on a call listens for key presses right now: a gather collecting digits, an
// interruptible prompt (whose keys become a following gather's type-ahead), an agent. In-band DTMF
// detection — a Goertzel bank over every frame — runs only meanwhile (call/detectors.ts); carrier
// `dtmf` messages arrive whatever this says. A count, not a flag: listeners overlap (a gather's prompt
// inside the gather), and the detector must stay on until the last one lets go.

export class KeyListening {
  private count = 0;
  private readonly watchers = new Set<(listening: boolean) => void>();

  get listening(): boolean {
    return this.count > 0;
  }

  /** Listen until the returned release is called (once; later calls do nothing). */
  listen(): () => void {
    if (++this.count === 1) this.notify(true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.count === 0) this.notify(false);
    };
  }

  /** Calls `watch` now with the current state, then on every change; returns the unwatch. */
  watch(watch: (listening: boolean) => void): () => void {
    this.watchers.add(watch);
    watch(this.listening);
    return () => this.watchers.delete(watch);
  }

  private notify(listening: boolean): void {
    for (const w of this.watchers) w(listening);
  }
}
