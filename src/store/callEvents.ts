// The read side of the call timeline: a call's stored events in sequence order. The writer (buffering,
// batching, retries) is eventLog.ts; readers (the API, analytics) need only this query.
import type { CallEvent } from '../call/events.ts';
import type { Queryable } from './db.ts';

/** An event as read back: the CallEvent plus its per-call sequence number and wall time (ISO). */
export type StoredCallEvent = CallEvent & { seq: number; wallTime: string };

/** A call's stored events after `afterSeq` (default 0), in sequence order, at most `limit`. */
export async function listCallEvents(db: Queryable, callId: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<StoredCallEvent[]> {
  const { rows } = await db.query<{ seq: number; media_ms: number | null; wall_time: Date; type: string; data: Record<string, unknown> | null }>(
    `SELECT seq, media_ms, wall_time, type, data FROM call_events
      WHERE call_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [callId, opts.afterSeq ?? 0, opts.limit ?? null],
  );
  return rows.map(
    (r) => ({ ...(r.data ?? {}), seq: r.seq, atMs: r.media_ms ?? Number.NaN, wallTime: r.wall_time.toISOString(), type: r.type }) as StoredCallEvent,
  );
}
