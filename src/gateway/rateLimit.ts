// A fixed-window request limit per client key (IP or API key), per process. Explicit limits keep one
// noisy client from starving the calls; the window state is tiny and swept as it ages.
export class RateLimiter {
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly windows = new Map<string, { start: number; count: number }>();
  private lastSweep = 0;

  constructor(limitPerWindow: number, windowMs = 60_000) {
    this.limit = limitPerWindow;
    this.windowMs = windowMs;
  }

  /** Records a request; returns ms to wait when over the limit, else 0. */
  hit(key: string, now = Date.now()): number {
    if (now - this.lastSweep > this.windowMs) this.sweep(now);
    let w = this.windows.get(key);
    if (w === undefined || now - w.start >= this.windowMs) {
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    w.count++;
    return w.count > this.limit ? w.start + this.windowMs - now : 0;
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [k, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(k);
  }
}
