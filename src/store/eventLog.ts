// The call timeline writer. The real-time path calls append() on every event, so append() is
// synchronous and O(1): it numbers the event, stamps wall time, serializes it and queues it; it never
// awaits and never throws. A single flusher drains the queue in batches (one multi-row INSERT in
// flight at a time). When the database is slow or down the queue keeps growing up to maxBuffered;
// beyond that the oldest events are dropped and counted (stats().dropped, and an error log), never
// silently. Failed batches are retried with capped exponential backoff, and since every row carries
// its (call_id, seq) key, a retry of a batch that did commit is a harmless ON CONFLICT no-op, so
// after recovery everything is written exactly once and in order.
import type { CallEvent } from '../call/events.ts';
import { listCallEvents, type StoredCallEvent } from './callEvents.ts';
import type { Queryable, StoreLogger } from './db.ts';
import { equalJitterDelayMs } from '../resilience/policy.ts';
import { MAX_EVENT_DATA_BYTES, storedEventData } from './eventData.ts';
import { Ring } from './ring.ts';

export type { StoredCallEvent } from './callEvents.ts';
export { MAX_EVENT_DATA_BYTES } from './eventData.ts';

export interface EventLogOptions {
  db: Queryable;
  log?: StoreLogger;
  /** Longest time an event waits in the buffer while the database is healthy. Default 100. */
  flushIntervalMs?: number;
  /** Events per INSERT; a full batch is written at once instead of waiting. Default 500. */
  maxBatch?: number;
  /** Events held while the database is unavailable; beyond it the oldest are dropped. Default 100 000. */
  maxBuffered?: number;
  /** The same bound in stored characters (≈ bytes) of event data, whatever the events' sizes. Default 64 MiB. */
  maxBufferedBytes?: number;
  /** First retry delay after a failed write; doubles per consecutive failure. Default 100. */
  retryBaseMs?: number;
  /** Cap of the retry delay. Default 5 000. */
  retryMaxMs?: number;
  /** Aborting it closes the log (final flush within closeTimeoutMs). */
  signal?: AbortSignal;
  /** Deadline of the final flush in close(). Default 5 000. */
  closeTimeoutMs?: number;
  /** Wall clock used to stamp events (epoch ms). Default Date.now. */
  wallClock?: () => number;
}

export interface EventLogStats {
  /** Events not yet confirmed written (including a batch in flight). */
  buffered: number;
  written: number;
  /** Lost to the buffer bound (oldest first), or still buffered when close() gave up. */
  dropped: number;
  /** Refused by the database one by one (e.g. a value PostgreSQL cannot store) or unserializable. */
  rejected: number;
  /** Batch writes that failed (each retry counts). */
  failedWrites: number;
  /** Events whose (call, seq) was already stored: a retried write that had committed after all. */
  duplicates: number;
  lastError: string | null;
}


interface PendingEvent {
  callId: string;
  seq: number;
  atMs: number | null;
  wallMs: number;
  type: string;
  data: string;
}

/**
 * The flush interval on embedded PGlite. Its engine runs in this process: every INSERT costs this
 * process's CPU — two thread wake-ups and PGlite's own work, ≈1.5 ms however few rows it carries
 * (measured with the media bench's per-batch thread CPU) — where on PostgreSQL it costs another
 * process's. Waiting 250 ms instead of 100 ms puts more of a busy gateway's events in each INSERT.
 * Events still buffered when the process is killed are lost either way; the window is 250 ms.
 */
export const EMBEDDED_FLUSH_INTERVAL_MS = 250;

const DEFAULTS = {
  flushIntervalMs: 100,
  maxBatch: 500,
  maxBuffered: 100_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  retryBaseMs: 100,
  retryMaxMs: 5_000,
  closeTimeoutMs: 5_000,
};

export const INSERT_SQL = `INSERT INTO call_events (call_id, seq, media_ms, wall_time, type, data)
SELECT call_id, seq, media_ms, to_timestamp(wall_ms / 1000), type, data::jsonb
  FROM unnest($1::text[], $2::integer[], $3::float8[], $4::float8[], $5::text[], $6::text[])
       AS t(call_id, seq, media_ms, wall_ms, type, data)`;
/**
 * The same, idempotent: for a batch that may already be stored (its earlier attempt failed, perhaps
 * after committing) and after a plain INSERT met a stored (call, seq). ON CONFLICT makes PostgreSQL
 * insert every row speculatively — a conflict check in the key's index first, a second WAL record
 * to confirm the row after — which made a 60-row batch ≈ 1.5× the plain INSERT's cost on embedded
 * PGlite, whose engine runs in this process. A first attempt meets a stored key only in rare cases
 * (an event appended after release(), a lost instance's closing event numbered by another process).
 */
export const INSERT_IDEMPOTENT_SQL = `${INSERT_SQL}
ON CONFLICT (call_id, seq) DO NOTHING`;
/** SQLSTATE unique_violation. */
const UNIQUE_VIOLATION = '23505';

/** SQLSTATE classes that mean "this data can never be stored" (22 data exception, 23 constraint). */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

export class EventLog {
  readonly #db: Queryable;
  readonly #log: StoreLogger | undefined;
  readonly #flushIntervalMs: number;
  readonly #maxBatch: number;
  readonly #maxBuffered: number;
  readonly #maxBufferedBytes: number;
  /** Characters of event data in the queue. */
  #bufferedBytes = 0;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  readonly #closeTimeoutMs: number;
  readonly #wallClock: () => number;

  readonly #queue = new Ring<PendingEvent>();
  readonly #nextSeq = new Map<string, number>();
  readonly #drainWaiters = new Set<() => void>();
  readonly #lifetime = new AbortController();

  #timer: NodeJS.Timeout | null = null;
  #timerIsBackoff = false;
  #writing: Promise<void> | null = null;
  /** Events at the queue head that the in-flight write carries. */
  #batchLen = 0;
  /** Of those, how many the buffer bound evicted while the write was in flight. */
  #evictedFromBatch = 0;
  #failureStreak = 0;
  #outageStartedMs = 0;
  #droppedInOutage = 0;
  #closing: Promise<void> | null = null;
  #droppedAfterClose = 0;

  #written = 0;
  #dropped = 0;
  #rejected = 0;
  #failedWrites = 0;
  #duplicates = 0;
  #lastError: string | null = null;

  constructor(opts: EventLogOptions) {
    this.#db = opts.db;
    this.#log = opts.log;
    this.#flushIntervalMs = positive('flushIntervalMs', opts.flushIntervalMs ?? DEFAULTS.flushIntervalMs, 0);
    this.#maxBatch = positive('maxBatch', opts.maxBatch ?? DEFAULTS.maxBatch, 1);
    this.#maxBuffered = positive('maxBuffered', opts.maxBuffered ?? DEFAULTS.maxBuffered, 1);
    this.#maxBufferedBytes = positive('maxBufferedBytes', opts.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes, MAX_EVENT_DATA_BYTES);
    this.#retryBaseMs = positive('retryBaseMs', opts.retryBaseMs ?? DEFAULTS.retryBaseMs, 1);
    this.#retryMaxMs = positive('retryMaxMs', opts.retryMaxMs ?? DEFAULTS.retryMaxMs, this.#retryBaseMs);
    this.#closeTimeoutMs = positive('closeTimeoutMs', opts.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs, 0);
    this.#wallClock = opts.wallClock ?? Date.now;
    const external = opts.signal;
    if (external !== undefined) {
      const onAbort = (): void => {
        // close() never rejects; its promise is kept in #closing and awaited by any later close().
        void this.close();
      };
      if (external.aborted) onAbort();
      else external.addEventListener('abort', onAbort, { once: true, signal: this.#lifetime.signal });
    }
  }

  /** Queues one event of one call. Synchronous, O(1), never throws. */
  append(callId: string, event: CallEvent): void {
    try {
      if (this.#closing !== null) {
        // Logged once: a session still running after shutdown would otherwise flood the log.
        if (this.#droppedAfterClose++ === 0) this.#log?.error({ callId, type: event.type }, 'event appended after the event log was closed; dropped (counted in stats().dropped)');
        this.#dropped++;
        return;
      }
      const { type, atMs, ...rest } = event;
      const data = storedEventData(rest);
      // Numbered only once it can be stored, so unserializable events leave no gap.
      const seq = (this.#nextSeq.get(callId) ?? 0) + 1;
      this.#nextSeq.set(callId, seq);
      while (this.#queue.size > 0 && (this.#queue.size >= this.#maxBuffered || this.#bufferedBytes + data.length > this.#maxBufferedBytes)) this.#evictOldest();
      this.#queue.push({ callId, seq, atMs: Number.isFinite(atMs) ? atMs : null, wallMs: this.#wallClock(), type, data });
      this.#bufferedBytes += data.length;
      this.#schedule();
    } catch (err) {
      // JSON.stringify throws on BigInt and cycles; such an event cannot be stored.
      this.#rejected++;
      this.#lastError = errorText(err);
      this.#log?.error({ callId, type: (event as { type?: unknown } | null)?.type, err: this.#lastError }, 'call event could not be serialized; not stored');
    }
  }

  /**
   * Forgets a finished call's sequence counter; call it after the call's last event. An event
   * appended for that call afterwards would restart at seq 1 and collide with the stored ones
   * (counted in stats().duplicates, not stored).
   */
  release(callId: string): void {
    this.#nextSeq.delete(callId);
  }

  stats(): EventLogStats {
    return {
      buffered: this.#queue.size,
      written: this.#written,
      dropped: this.#dropped,
      rejected: this.#rejected,
      failedWrites: this.#failedWrites,
      duplicates: this.#duplicates,
      lastError: this.#lastError,
    };
  }

  /**
   * Writes what is buffered now and resolves true once the buffer is empty, or false when
   * `timeoutMs` passes first (the database is down; writing continues in the background).
   */
  async flush(timeoutMs = 5_000): Promise<boolean> {
    if (this.#isDrained()) return true;
    if (this.#writing === null) {
      this.#clearTimer();
      this.#startWrite();
    }
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(deadline);
        this.#drainWaiters.delete(onDrain);
        resolve(ok);
      };
      const onDrain = (): void => done(true);
      const deadline = setTimeout(() => done(false), timeoutMs);
      deadline.unref();
      this.#drainWaiters.add(onDrain);
    });
  }

  /**
   * Final flush (within closeTimeoutMs), then stops. Events still buffered after the deadline are
   * counted as dropped and logged. Idempotent; never rejects.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** A call's stored events in sequence order (events still buffered are not included). */
  listEvents(callId: string, opts: { afterSeq?: number; limit?: number } = {}): Promise<StoredCallEvent[]> {
    return listCallEvents(this.#db, callId, opts);
  }

  async #shutdown(): Promise<void> {
    const deadline = performance.now() + this.#closeTimeoutMs;
    await this.flush(this.#closeTimeoutMs);
    this.#clearTimer();
    this.#lifetime.abort();
    // A write still in flight is allowed to finish within the same deadline.
    const inFlight = this.#writing;
    if (inFlight !== null) {
      let timer: NodeJS.Timeout | undefined;
      const remaining = Math.max(0, deadline - performance.now());
      await Promise.race([inFlight, new Promise<void>((resolve) => (timer = setTimeout(resolve, remaining)))]);
      clearTimeout(timer);
    }
    const lost = this.#queue.size;
    if (lost > 0) {
      this.#dropped += lost;
      this.#discardHead(lost);
      this.#log?.error({ dropped: lost, lastError: this.#lastError }, 'event log closed with unwritten events; they are lost');
    }
    this.#notifyIfDrained();
  }

  #isDrained(): boolean {
    return this.#queue.size === 0 && this.#writing === null;
  }

  /** Removes the queue's first `count` events, keeping the byte count. */
  #discardHead(count: number): void {
    for (let i = 0; i < count; i++) {
      const head = this.#queue.shift();
      if (head === undefined) return;
      this.#bufferedBytes -= head.data.length;
    }
  }

  #evictOldest(): void {
    this.#discardHead(1);
    if (this.#evictedFromBatch < this.#batchLen) {
      // It is in the write now in flight: if that write commits, the event was stored after all.
      this.#evictedFromBatch++;
    } else {
      this.#countDropped(1);
    }
  }

  #countDropped(count: number): void {
    if (count === 0) return;
    if (this.#droppedInOutage === 0) {
      this.#log?.error({ maxBuffered: this.#maxBuffered, lastError: this.#lastError }, 'event log buffer full: dropping the oldest call events');
    }
    this.#dropped += count;
    this.#droppedInOutage += count;
  }

  #schedule(): void {
    if (this.#writing !== null || this.#lifetime.signal.aborted) return;
    if (this.#queue.size >= this.#maxBatch && this.#timer !== null && !this.#timerIsBackoff) {
      // A full batch need not wait for the interval.
      this.#clearTimer();
    }
    if (this.#timer !== null) return;
    this.#setTimer(this.#queue.size >= this.#maxBatch ? 0 : this.#flushIntervalMs, false);
  }

  #setTimer(delayMs: number, isBackoff: boolean): void {
    this.#timerIsBackoff = isBackoff;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#startWrite();
    }, delayMs);
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #startWrite(): void {
    if (this.#writing !== null || this.#lifetime.signal.aborted) return;
    if (this.#queue.size === 0) {
      this.#notifyIfDrained();
      return;
    }
    // #writeBatch never rejects; the promise is kept so close() can wait for it.
    this.#writing = this.#writeBatch().finally(() => {
      this.#writing = null;
      this.#afterWrite();
    });
  }

  async #writeBatch(): Promise<void> {
    const n = Math.min(this.#queue.size, this.#maxBatch);
    const batch: PendingEvent[] = new Array<PendingEvent>(n);
    for (let i = 0; i < n; i++) batch[i] = this.#queue.at(i) as PendingEvent;
    this.#batchLen = n;
    this.#evictedFromBatch = 0;
    let ok: boolean;
    try {
      await this.#insert(batch);
      ok = true;
    } catch (err) {
      ok = isDataError(err) && n > 1 ? await this.#insertOneByOne(batch, err) : this.#recordFailure(err, n === 1 && isDataError(err));
    }
    const stillQueued = this.#batchLen - this.#evictedFromBatch;
    if (ok) {
      this.#discardHead(stillQueued);
    } else {
      this.#countDropped(this.#evictedFromBatch);
    }
    this.#batchLen = 0;
    this.#evictedFromBatch = 0;
  }

  async #insert(batch: readonly PendingEvent[]): Promise<void> {
    const n = batch.length;
    const callIds = new Array<string>(n);
    const seqs = new Array<number>(n);
    const atMs = new Array<number | null>(n);
    const wallMs = new Array<number>(n);
    const types = new Array<string>(n);
    const data = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const e = batch[i] as PendingEvent;
      callIds[i] = e.callId;
      seqs[i] = e.seq;
      atMs[i] = e.atMs;
      wallMs[i] = e.wallMs;
      types[i] = e.type;
      data[i] = e.data;
    }
    const params = [callIds, seqs, atMs, wallMs, types, data];
    let result;
    if (this.#failureStreak > 0) {
      result = await this.#db.query(INSERT_IDEMPOTENT_SQL, params);
    } else {
      try {
        result = await this.#db.query(INSERT_SQL, params);
      } catch (err) {
        // Nothing of a refused statement is stored: write it again, keeping the rows not yet stored.
        if ((err as { code?: unknown } | null)?.code !== UNIQUE_VIOLATION) throw err;
        result = await this.#db.query(INSERT_IDEMPOTENT_SQL, params);
      }
    }
    // rowCount excludes ON CONFLICT no-ops: those rows were stored by an earlier attempt whose
    // answer got lost (timeout, dropped connection), or a sequence number was reused after release().
    const inserted = result.rowCount ?? n;
    this.#written += inserted;
    this.#duplicates += n - inserted;
    this.#onSuccess();
  }

  /**
   * A batch refused for its content: find the rows the database refuses by writing them singly.
   * Returns false (retry later) if the database fails for another reason meanwhile.
   */
  async #insertOneByOne(batch: readonly PendingEvent[], batchErr: unknown): Promise<boolean> {
    this.#log?.warn({ events: batch.length, err: errorText(batchErr) }, 'event batch refused; writing its events one by one');
    for (const e of batch) {
      try {
        await this.#insert([e]);
      } catch (err) {
        if (!isDataError(err)) return this.#recordFailure(err, false);
        this.#rejected++;
        this.#lastError = errorText(err);
        this.#log?.error({ callId: e.callId, seq: e.seq, type: e.type, err: this.#lastError }, 'call event refused by the database; not stored');
      }
    }
    return true;
  }

  /** Returns whether the batch is done with (true only for a single refused row). */
  #recordFailure(err: unknown, refused: boolean): boolean {
    this.#lastError = errorText(err);
    if (refused) {
      this.#rejected++;
      this.#log?.error({ err: this.#lastError }, 'call event refused by the database; not stored');
      return true;
    }
    this.#failedWrites++;
    this.#failureStreak++;
    if (this.#failureStreak === 1) {
      this.#outageStartedMs = performance.now();
      this.#log?.warn({ err: this.#lastError, buffered: this.#queue.size }, 'event log write failed; buffering and retrying');
    }
    return false;
  }

  #onSuccess(): void {
    if (this.#failureStreak > 0) {
      this.#log?.info(
        { failedWrites: this.#failureStreak, outageMs: Math.round(performance.now() - this.#outageStartedMs), dropped: this.#droppedInOutage },
        'event log writes recovered',
      );
    }
    this.#failureStreak = 0;
    this.#droppedInOutage = 0;
  }

  #afterWrite(): void {
    if (this.#lifetime.signal.aborted) {
      this.#notifyIfDrained();
      return;
    }
    if (this.#failureStreak > 0) {
      // The failed batch stays at the queue's head and is written again with what arrived since, so
      // the retry is this flusher's timer rather than a wrapped call; it waits the policy's backoff.
      this.#setTimer(equalJitterDelayMs({ baseDelayMs: this.#retryBaseMs, maxDelayMs: this.#retryMaxMs }, this.#failureStreak), true);
      return;
    }
    if (this.#queue.size >= this.#maxBatch || (this.#queue.size > 0 && this.#drainWaiters.size > 0)) {
      this.#startWrite();
    } else if (this.#queue.size > 0) {
      this.#setTimer(this.#flushIntervalMs, false);
    } else {
      this.#notifyIfDrained();
    }
  }

  #notifyIfDrained(): void {
    if (!this.#isDrained()) return;
    for (const resolve of [...this.#drainWaiters]) resolve();
  }
}

function positive(name: string, value: number, min: number): number {
  if (!Number.isFinite(value) || value < min) throw new RangeError(`EventLog option ${name} must be a number >= ${min}, got ${value}`);
  return value;
}
