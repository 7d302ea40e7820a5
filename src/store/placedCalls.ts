// Outbound calls this machine placed in the last minutes, kept in memory so the carrier's voice
// webhook for one (and its stream's start, which reads the call's variables) is answered without a
// database round trip — during a database stall that read is what made the caller wait. The placing
// process remembers the record it has just written; the other processes (cluster workers, other
// instances on the same database) learn it from the change feed (LISTEN/NOTIFY on PLACED_CALLS_CHANNEL,
// the mechanism that already carries cache invalidation), so whichever worker the webhook lands on has
// it. The database stays the record and the fallback: an entry missing here (a restart, a payload too
// big for NOTIFY that could not be read back, an expired entry) is read from it as before.
// Bounded (oldest dropped first) and expiring: a carrier fetches the webhook within its ring timeout.
import type { CallRecord } from './calls.ts';

/** The change feed channel on which a placed call's record is announced. */
export const PLACED_CALLS_CHANNEL = 'gateway_placed_calls';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; a bigger record is announced by id. */
export const MAX_NOTIFY_BYTES = 7900;

export interface PlacedCallsOptions {
  /** How long an entry is served; default 10 minutes (ring timeouts are at most a few minutes). */
  ttlMs?: number;
  /** Most entries held; default 10 000. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  call: CallRecord;
  at: number;
}

export class PlacedCalls {
  private readonly entries = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  readonly counters = { remembered: 0, announced: 0, hits: 0, misses: 0 };

  constructor(opts: PlacedCallsOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Keeps (or replaces) an outbound call's record. */
  remember(call: CallRecord): void {
    if (call.direction !== 'outbound' || call.endedAt !== null) {
      this.entries.delete(call.id);
      return;
    }
    this.entries.delete(call.id);
    this.entries.set(call.id, { call, at: this.now() });
    this.counters.remembered++;
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }

  /** The call's record while it is fresh, else undefined (ask the database). */
  get(callId: string): CallRecord | undefined {
    const e = this.entries.get(callId);
    if (e !== undefined && this.now() - e.at <= this.ttlMs) {
      this.counters.hits++;
      return e.call;
    }
    if (e !== undefined) this.entries.delete(callId);
    this.counters.misses++;
    return undefined;
  }

  has(callId: string): boolean {
    return this.entries.has(callId);
  }

  forget(callId: string): void {
    this.entries.delete(callId);
  }

  /**
   * A payload from the change feed: the record is kept; an id alone is returned so the caller can
   * read the record while the database answers. Anything else is ignored.
   */
  receive(payload: string): { readId: string } | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      return undefined;
    }
    if (parsed === null || typeof parsed !== 'object') return undefined;
    const p = parsed as Partial<CallRecord>;
    if (typeof p.id !== 'string') return undefined;
    if (typeof p.direction !== 'string' || typeof p.carrier !== 'string' || typeof p.metadata !== 'object') return this.entries.has(p.id) ? undefined : { readId: p.id };
    this.counters.announced++;
    this.remember(p as CallRecord);
    return undefined;
  }

  get size(): number {
    return this.entries.size;
  }
}
