// The wall-clock side of a call's time (DESIGN decision 1: the media clock stops when media stops, so
// a wall-clock watchdog ends a call whose media stopped arriving). One interval timer serves every call
// of a media-stream endpoint instead of one per call: with a timer each, a process of N calls woke its
// event loop N times a second for them (each timer has its own phase), which an idle or lightly loaded
// process pays in full — a wake-up, the timer list's bookkeeping and the kernel's context switch.
// The timer runs only while some call is watched, and is unref'd: it never holds the process open.

export class MediaWatchdog {
  readonly tickMs: number;
  readonly #ticks = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(tickMs: number) {
    if (!Number.isFinite(tickMs) || tickMs <= 0) throw new RangeError(`MediaWatchdog tickMs must be a positive number, got ${tickMs}`);
    this.tickMs = tickMs;
  }

  /** Number of calls watched. */
  get size(): number {
    return this.#ticks.size;
  }

  /**
   * Calls `tick` every `tickMs` from now until the returned function is called. The first tick comes
   * within one tick of registering (the timer's phase is the endpoint's, not the call's).
   */
  watch(tick: () => void): () => void {
    // A function of its own per registration, so one call's tick registered twice is watched twice.
    const entry = (): void => tick();
    this.#ticks.add(entry);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), this.tickMs);
      this.#timer.unref();
    }
    return () => {
      this.#ticks.delete(entry);
      if (this.#ticks.size === 0 && this.#timer !== undefined) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  #tick(): void {
    // A tick that ends its call unregisters it meanwhile (a Set visits what is left). One call's
    // failure must not skip the others' ticks; it is rethrown afterwards, as its own timer would have.
    let failure: { err: unknown } | undefined;
    for (const tick of this.#ticks) {
      try {
        tick();
      } catch (err) {
        failure ??= { err };
      }
    }
    if (failure !== undefined) throw failure.err;
  }
}
