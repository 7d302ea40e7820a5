// Media-stream sockets that have not yet authenticated (no valid `start`), capped in total and per
// client: before authentication a socket costs us memory and parsing but proves nothing, so a flood
// of idle upgrades must not crowd out the carrier's real streams. Memory is bounded by the total cap.
export class PendingStreams {
  private readonly perKey = new Map<string, number>();
  private total = 0;
  private readonly maxTotal: number;
  private readonly maxPerKey: number;

  constructor(maxTotal: number, maxPerKey: number) {
    this.maxTotal = maxTotal;
    this.maxPerKey = maxPerKey;
  }

  get size(): number {
    return this.total;
  }

  wouldAccept(key: string): boolean {
    return this.total < this.maxTotal && (this.perKey.get(key) ?? 0) < this.maxPerKey;
  }

  /** Takes a slot for `key`; returns its release (idempotent), or undefined when a cap is reached. */
  tryAcquire(key: string): (() => void) | undefined {
    if (!this.wouldAccept(key)) return undefined;
    this.total++;
    this.perKey.set(key, (this.perKey.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const n = (this.perKey.get(key) ?? 1) - 1;
      if (n <= 0) this.perKey.delete(key);
      else this.perKey.set(key, n);
    };
  }
}
