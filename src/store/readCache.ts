// Reads on a call's set-up path (which flow a number runs, the flow's definition) must not make a new
// call wait on a slow or stalled database. A read is served from memory while fresh; once stale it is
// still served at once while a background read refreshes it (stale-while-revalidate); a key never read
// before waits for the database at most `timeoutMs`, then gets the fallback — and the database's late
// answer still fills the cache.
//
// A change (a new flow version, a re-routed number) reaches the cache through invalidate(), called
// from the change feed (LISTEN/NOTIFY, see changeFeed.ts) and after this instance's own writes. An
// invalidated entry is never served first: the next read waits for the database (at most
// `timeoutMs`) and only if the database does not answer is the last known value served — the outage
// behaviour. A read that started before an invalidation refills the cache only as a stale value.
// The TTL is then only the safety net for notifications missed while the feed was disconnected.
//
// A database already known to be stalled (`stalledMs`, see dbProgress.ts: work outstanding and
// nothing answered for `stallMs`) is not waited for at all: during a long freeze every new call would
// otherwise sit `timeoutMs` in silence before its flow starts. `stallMs` is longer than `timeoutMs`, so
// a read that is merely slow, and alone in flight, never shortens its own wait.
export interface ReadCacheOptions {
  ttlMs: number;
  timeoutMs: number;
  maxEntries?: number;
  /** How long the database has had work outstanding without answering any (DatabaseProgress.stalledMs). */
  stalledMs?: () => number;
  /** From this much `stalledMs` on, a read gives up at once. Default: twice `timeoutMs`, at least 1 000. */
  stallMs?: number;
}

/** How often a read waiting for the database checks whether it has been found stalled meanwhile. */
const STALL_CHECK_MS = 50;

export type ReadOutcome = 'fresh' | 'database' | 'stale' | 'unavailable';

interface Entry<V> {
  value: V;
  at: number;
  /** Invalidated: known to be possibly out of date. */
  stale: boolean;
}

export class ReadCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly inFlight = new Map<string, Promise<V>>();
  /** Bumped by invalidate(): reads started before it do not fill the cache. */
  private generation = 0;
  private readonly opts: Required<Omit<ReadCacheOptions, 'stalledMs'>> & Pick<ReadCacheOptions, 'stalledMs'>;
  private readonly now: () => number;
  /** Outcomes of get(); `stalled` counts the reads that gave up early on a stalled database (also counted as stale or unavailable). */
  readonly counters: Record<ReadOutcome | 'stalled', number> = { fresh: 0, database: 0, stale: 0, unavailable: 0, stalled: 0 };

  constructor(opts: ReadCacheOptions, now: () => number = () => performance.now()) {
    this.opts = { maxEntries: 1000, stallMs: Math.max(1000, 2 * opts.timeoutMs), ...opts };
    if (!(this.opts.stallMs > this.opts.timeoutMs)) throw new RangeError('stallMs must be longer than timeoutMs');
    this.now = now;
  }

  /**
   * The value for `key`: the cached one if any (refreshed in the background once stale), else from
   * `read()` within the timeout, else `fallback` (the database has never answered for this key).
   */
  async get(key: string, read: () => Promise<V>, fallback: V): Promise<V> {
    const cached = this.entries.get(key);
    if (cached !== undefined && !cached.stale && this.now() - cached.at < this.opts.ttlMs) {
      this.counters.fresh++;
      return cached.value;
    }
    const pending = this.refresh(key, read);
    if (cached !== undefined && !cached.stale) {
      // Past its TTL but not invalidated: nothing announced a change, serve it while refreshing.
      this.counters.stale++;
      pending.catch(() => undefined); // the next call tries again
      return cached.value;
    }
    const timers: NodeJS.Timeout[] = [];
    try {
      const result = await Promise.race([pending, this.giveUp(timers)]);
      if (result !== 'timeout') {
        this.counters.database++;
        return result;
      }
    } catch {
      // Fall through to the fallback: a failing database must not fail the call's set-up.
    } finally {
      for (const t of timers) clearTimeout(t);
    }
    pending.catch(() => undefined); // a late failure has nowhere to go
    if (cached !== undefined) {
      // Invalidated, and the database does not answer: the last known value beats none.
      this.counters.stale++;
      return cached.value;
    }
    this.counters.unavailable++;
    return fallback;
  }

  /** Resolves after `timeoutMs`, or as soon as the database is found stalled (at once if it already is). */
  private giveUp(timers: NodeJS.Timeout[]): Promise<'timeout'> {
    return new Promise<'timeout'>((resolve) => {
      const { stalledMs, stallMs } = this.opts;
      if (stalledMs !== undefined) {
        if (stalledMs() >= stallMs) {
          this.counters.stalled++;
          resolve('timeout');
          return;
        }
        const check = setInterval(() => {
          if (stalledMs() < stallMs) return;
          this.counters.stalled++;
          resolve('timeout');
        }, STALL_CHECK_MS);
        check.unref();
        timers.push(check);
      }
      const timer = setTimeout(() => resolve('timeout'), this.opts.timeoutMs);
      timer.unref();
      timers.push(timer);
    });
  }

  /** One database read per key at a time; its answer fills the cache whenever it comes. */
  private refresh(key: string, read: () => Promise<V>): Promise<V> {
    const inFlight = this.inFlight.get(key);
    if (inFlight !== undefined) return inFlight;
    const generation = this.generation;
    const pending = read()
      .then((value) => {
        // A read that raced an invalidation may predate the change: kept as the last known value
        // (for an outage) but not served first.
        this.store(key, value, generation !== this.generation);
        return value;
      })
      .finally(() => {
        if (this.inFlight.get(key) === pending) this.inFlight.delete(key);
      });
    this.inFlight.set(key, pending);
    return pending;
  }

  /**
   * Mark a key (or every key) out of date: the next get waits for the database, and serves the old
   * value only if the database does not answer.
   */
  invalidate(key?: string): void {
    this.generation++;
    if (key === undefined) {
      for (const entry of this.entries.values()) entry.stale = true;
      this.inFlight.clear();
    } else {
      const entry = this.entries.get(key);
      if (entry !== undefined) entry.stale = true;
      this.inFlight.delete(key);
    }
  }

  /** Invalidate every key the predicate selects. */
  invalidateWhere(select: (key: string) => boolean): void {
    for (const key of [...this.entries.keys()]) if (select(key)) this.invalidate(key);
  }

  private store(key: string, value: V, stale: boolean): void {
    this.entries.delete(key);
    this.entries.set(key, { value, at: this.now(), stale });
    if (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }
}
