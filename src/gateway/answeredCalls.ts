// Inbound calls this process answered lately, by the carrier's call id. A voice webhook the carrier
// sends again for the same call (it retried after a timeout or an error on its side) gets the call of
// the first answer from memory, so the call keeps one id and one record even while the database is too
// slow to say that the record exists (the webhook answers before the record is written).
//
// Bounded by time — a stream token's life and a minute, after which the first answer's stream has
// started or never will — and by count (oldest forgotten first). Insertion order is expiry order (one
// retention for all), so pruning pops from the front.
import { STREAM_TOKEN_TTL_S } from '../call/streamToken.ts';
import type { CallRecord } from '../store/calls.ts';

export type AnsweredCall = Pick<CallRecord, 'id' | 'fromNumber' | 'toNumber' | 'direction' | 'flowId'> & { endedAt?: string | null };

/** How long an answered call is remembered: any token issued for it has expired by then. */
const RETENTION_MS = (STREAM_TOKEN_TTL_S + 60) * 1000;
/** Calls remembered at most: far above the calls one process answers in RETENTION_MS. */
const MAX_ENTRIES = 20_000;

export class AnsweredCalls {
  private readonly calls = new Map<string, { call: AnsweredCall; until: number }>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Remembers the call answered for `carrierKey` (see carrierCallKey). */
  remember(carrierKey: string, call: AnsweredCall): void {
    this.prune();
    this.calls.delete(carrierKey);
    this.calls.set(carrierKey, { call, until: this.now() + RETENTION_MS });
    if (this.calls.size > MAX_ENTRIES) {
      const oldest = this.calls.keys().next();
      if (oldest.done !== true) this.calls.delete(oldest.value);
    }
  }

  /** The call answered lately for `carrierKey`, if any. */
  get(carrierKey: string): AnsweredCall | undefined {
    this.prune();
    return this.calls.get(carrierKey)?.call;
  }

  get size(): number {
    return this.calls.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [key, { until }] of this.calls) {
      if (until > now) break;
      this.calls.delete(key);
    }
  }
}
