// Sign-in attempts are limited per client address and per user name, so neither one address nor a
// botnet guessing one account's password gets more than a few tries a minute. Per process, in memory:
// a fixed window is enough for a handful of keys per minute, and the whole API has its shared limit too.
const WINDOW_MS = 60_000;
/** Keys remembered at most; the oldest windows are dropped first (a flood of names cannot grow it). */
const MAX_KEYS = 10_000;

export class LoginLimiter {
  private readonly perMinute: number;
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(perMinute: number) {
    this.perMinute = perMinute;
  }

  /** Records an attempt; ms to wait when over either limit, else 0. */
  hit(address: string, name: string, now = Date.now()): number {
    return Math.max(this.count(`ip:${address}`, now), this.count(`user:${name.toLowerCase()}`, now));
  }

  private count(key: string, now: number): number {
    let w = this.windows.get(key);
    if (w === undefined || now - w.start >= WINDOW_MS) {
      this.windows.delete(key);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
      if (this.windows.size > MAX_KEYS) this.windows.delete(this.windows.keys().next().value as string);
    }
    w.count++;
    return w.count > this.perMinute ? w.start + WINDOW_MS - now : 0;
  }
}
