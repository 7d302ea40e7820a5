// Timers on the call's media clock for one agent node. A `MediaTimer` is one named slot: setting it
// again replaces what was pending, and clearing it cancels — so a stale timer can never fire, with no
// generation counters to compare. `cancelAll()` drops every timer of the node when it ends (the call,
// and its clock, go on with the rest of the flow).

export type Schedule = (ms: number, fire: () => void) => () => void;

export class MediaTimer {
  private readonly schedule: Schedule;
  private cancel: (() => void) | undefined;

  constructor(schedule: Schedule) {
    this.schedule = schedule;
  }

  get pending(): boolean {
    return this.cancel !== undefined;
  }

  /** Fire `fn` after `ms` of media time (negative = at the next frame), replacing what was pending. */
  set(ms: number, fn: () => void): void {
    this.clear();
    this.cancel = this.schedule(Math.max(0, ms), () => {
      this.cancel = undefined;
      fn();
    });
  }

  clear(): void {
    this.cancel?.();
    this.cancel = undefined;
  }
}

export class MediaTimers {
  private readonly schedule: Schedule;
  private readonly slots: MediaTimer[] = [];
  private readonly oneShots = new Set<() => void>();
  private closed = false;

  constructor(schedule: Schedule) {
    this.schedule = schedule;
  }

  /** A named slot, cancelled with the others at the end. */
  timer(): MediaTimer {
    const t = new MediaTimer((ms, fire) => (this.closed ? noop : this.schedule(ms, fire)));
    this.slots.push(t);
    return t;
  }

  /** A one-off timer (a response's filler, the node's duration limit). */
  once(ms: number, fn: () => void): void {
    if (this.closed) return;
    const cancel = this.schedule(Math.max(0, ms), () => {
      this.oneShots.delete(cancel);
      fn();
    });
    this.oneShots.add(cancel);
  }

  cancelAll(): void {
    this.closed = true;
    for (const t of this.slots) t.clear();
    for (const cancel of this.oneShots) cancel();
    this.oneShots.clear();
  }
}

function noop(): void {}
