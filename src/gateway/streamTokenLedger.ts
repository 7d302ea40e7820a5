// What this process knows about stream tokens and ended calls, so that a token starts at most one
// session and never one for a call that has ended (a replayed `start` would otherwise run the call's
// flow again and send its audio to whoever connected). Synchronous and in memory: a stream's start
// must not wait for the database. Across instances the same guarantees come from the call's record
// (mediaStream.ts checks it right after start) and the token's one-minute expiry.
//
// Memory is bounded by time: a token is remembered until it expires, an ended call for as long as a
// token issued for it could still be valid. Entries are kept in insertion order, which is also expiry
// order (one TTL for all), so pruning pops from the front: O(1) amortized.
import { STREAM_TOKEN_TTL_S } from '../call/streamToken.ts';

/** An ended call is remembered this long: any token for it has expired by then. */
const ENDED_RETENTION_MS = (STREAM_TOKEN_TTL_S + 60) * 1000;

export interface StreamTokenLedgerCounters {
  /** Streams refused because their token had already started a session. */
  replayedTokens: number;
  /** Streams and voice webhooks refused because their call had already ended. */
  endedCalls: number;
}

export class StreamTokenLedger {
  private readonly used = new Map<string, number>();
  private readonly ended = new Map<string, number>();
  private readonly now: () => number;
  readonly counters: StreamTokenLedgerCounters = { replayedTokens: 0, endedCalls: 0 };

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  /** Marks the token used; false (and counted) when it had been used before. */
  consume(token: string, expiresAtS: number): boolean {
    this.prune();
    if (this.used.has(token)) {
      this.counters.replayedTokens++;
      return false;
    }
    this.used.set(token, expiresAtS * 1000);
    return true;
  }

  /** The call (by our id and by the carrier's) has ended: no stream or webhook may start it again. */
  markEnded(callId: string, carrierKey?: string): void {
    const until = this.now() + ENDED_RETENTION_MS;
    this.ended.set(callId, until);
    if (carrierKey !== undefined) this.ended.set(carrierKey, until);
  }

  /** Whether the call (our id or `carrier:carrierCallId`) ended; counted when it did. */
  refuseEnded(key: string): boolean {
    this.prune();
    if (!this.ended.has(key)) return false;
    this.counters.endedCalls++;
    return true;
  }

  get size(): number {
    return this.used.size + this.ended.size;
  }

  private prune(): void {
    const now = this.now();
    for (const map of [this.used, this.ended]) {
      for (const [key, until] of map) {
        if (until > now) break;
        map.delete(key);
      }
    }
  }
}

/** The ledger key of a carrier's call id. */
export function carrierCallKey(carrier: string, carrierCallId: string): string {
  return `${carrier}:${carrierCallId}`;
}
