// Readiness for load balancers, answered from a check at most READINESS_CACHE_MS old: the probe is
// unauthenticated, and a database query per request would let anyone occupy the pool (PGlite has a
// single connection). Concurrent requests share the one check in flight.
export const READINESS_CACHE_MS = 1000;

export class CachedCheck {
  private value: boolean | undefined;
  private checkedAt = -Infinity;
  private inFlight: Promise<boolean> | undefined;
  private readonly check: () => Promise<boolean>;
  private readonly maxAgeMs: number;

  constructor(check: () => Promise<boolean>, maxAgeMs = READINESS_CACHE_MS) {
    this.check = check;
    this.maxAgeMs = maxAgeMs;
  }

  get(): Promise<boolean> {
    if (this.value !== undefined && performance.now() - this.checkedAt < this.maxAgeMs) return Promise.resolve(this.value);
    this.inFlight ??= this.check()
      .catch(() => false)
      .then((ok) => {
        this.value = ok;
        this.checkedAt = performance.now();
        this.inFlight = undefined;
        return ok;
      });
    return this.inFlight;
  }
}
