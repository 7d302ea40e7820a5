// The one path for every database write about a call (DESIGN decision 10): the call row's transitions
// (record, stream, answer, AMD verdict, flow, recording, end, carrier status callbacks) and anything
// other subsystems write about a call (campaign attempts, analytics, recordings) go through
// `enqueue(callId, what, write)`.
//
// Guarantees, the same as the event log's:
// - ordered: a call's writes run one after another in the order they were enqueued, so everything
//   queues behind the record's creation (the voice webhook may answer before the record exists);
// - retried: a write that fails for a reason that can pass (connection refused, server restarting,
//   timeout, "the row is not there yet") is retried with capped exponential backoff (resilience/policy.ts) until
//   it succeeds or `retryDeadlineMs` has passed since it was enqueued. Later writes of the same call
//   wait for it, so the record converges to what happened, in order, after any outage;
// - bounded: at most `maxPending` writes wait at once; beyond that a new write is refused, counted and
//   logged — never silently lost;
// - counted: stats() (exposed on /v1/metrics through the gateway);
// - flushed on shutdown: settle(timeoutMs) waits for them, close() gives up the rest (counted).
//
// Because a write may be retried after it did commit (the answer was lost with the connection),
// **every enqueued write must be idempotent**: a second run must leave the row as the first did
// (COALESCE for "first wins", monotonic status ranks, upserts, ON CONFLICT DO NOTHING).
import { createError, GatewayError, isAbortError } from '../errors.ts';
import { persistentRetry } from '../resilience/policy.ts';

export interface CallWritesLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CallWritesOptions {
  log?: CallWritesLogger;
  /** How long a write keeps being retried after it was enqueued. Default 10 min. */
  retryDeadlineMs?: number;
  /** Writes waiting at once (all calls); beyond it new writes are refused and counted. Default 50 000. */
  maxPending?: number;
  /** First retry delay. Default 200 ms. */
  initialDelayMs?: number;
  /** Cap of the retry delay. Default 5 000 ms. */
  maxDelayMs?: number;
}

export interface CallWritesStats {
  /** Enqueued and not yet finished (including one in progress per call). */
  pending: number;
  written: number;
  /** Attempts that failed and were retried. */
  retries: number;
  /** Given up after the retry deadline, or when close() ended the wait. */
  gaveUp: number;
  /** Failed for a reason a retry cannot fix (bad data): not retried. */
  rejected: number;
  /** Refused because maxPending writes were already waiting. */
  overflowed: number;
  lastError: string | null;
}

const DEFAULTS = { retryDeadlineMs: 10 * 60_000, maxPending: 50_000, initialDelayMs: 200, maxDelayMs: 5_000 };

/**
 * The error a write throws when the row it updates does not exist yet (a status callback that beat
 * the record's creation, possibly on another instance): retried like an outage.
 */
export function notRecordedYet(what: string): GatewayError {
  return createError('GW_ERR_CALL_NOT_RECORDED_YET', `${what}: the call's record does not exist yet; the write is retried until it does`, { statusCode: 503, retryable: true });
}

/**
 * Can a retry fix this? Permanent: PostgreSQL data/constraint/syntax errors (SQLSTATE classes 22, 23,
 * 42) and our own errors marked non-retryable with a 4xx status. Everything else (connection
 * refused or reset, 57P01 admin shutdown, 08xxx connection errors, timeouts) is worth retrying.
 */
export function isRetryableWriteError(err: unknown): boolean {
  if (err instanceof GatewayError) return err.retryable || err.statusCode >= 500;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^(22|23|42)/.test(code)) return false;
  return true;
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

export class CallWrites {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly log: CallWritesLogger | undefined;
  private readonly opts: Required<Omit<CallWritesOptions, 'log'>>;
  private readonly lifetime = new AbortController();
  private pending = 0;
  private failingSince: number | undefined;
  private overflowLogged = false;
  private readonly counters = { written: 0, retries: 0, gaveUp: 0, rejected: 0, overflowed: 0 };
  private lastError: string | null = null;

  constructor(opts: CallWritesOptions = {}) {
    this.log = opts.log;
    this.opts = {
      retryDeadlineMs: opts.retryDeadlineMs ?? DEFAULTS.retryDeadlineMs,
      maxPending: opts.maxPending ?? DEFAULTS.maxPending,
      initialDelayMs: opts.initialDelayMs ?? DEFAULTS.initialDelayMs,
      maxDelayMs: opts.maxDelayMs ?? DEFAULTS.maxDelayMs,
    };
  }

  /**
   * Run `write` after every earlier write of the same call, retrying it (see the file comment; it must
   * be idempotent). Resolves with its result, or undefined when it was refused or given up (counted and
   * logged). Never rejects.
   */
  enqueue<T>(callId: string, what: string, write: () => Promise<T>): Promise<T | undefined> {
    if (this.lifetime.signal.aborted || this.pending >= this.opts.maxPending) {
      this.counters.overflowed++;
      if (!this.overflowLogged) {
        this.overflowLogged = true;
        this.log?.error({ callId, what, pending: this.pending, maxPending: this.opts.maxPending, closed: this.lifetime.signal.aborted }, 'call write refused: too many writes waiting for the database (counted in overflowed)');
      }
      return Promise.resolve(undefined);
    }
    this.pending++;
    const previous = this.chains.get(callId) ?? Promise.resolve();
    const next = previous.then(() => this.run(callId, what, write));
    this.chains.set(callId, next);
    void next.then(() => {
      this.pending--;
      if (this.pending < this.opts.maxPending / 2) this.overflowLogged = false;
      if (this.chains.get(callId) === next) this.chains.delete(callId);
    });
    return next;
  }

  stats(): CallWritesStats {
    return { pending: this.pending, ...this.counters, lastError: this.lastError };
  }

  /** Resolves when every queued write has finished, or after `timeoutMs`; returns whether all did. */
  async settle(timeoutMs = Infinity): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.chains.size > 0) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = Number.isFinite(left) ? new Promise<void>((r) => (timer = setTimeout(r, left))) : new Promise<void>(() => undefined);
      await Promise.race([Promise.allSettled([...this.chains.values()]), timedOut]);
      clearTimeout(timer);
    }
    return true;
  }

  /**
   * Stops retrying: writes still waiting give up (counted in gaveUp) and new ones are refused. Waits at
   * most `timeoutMs` for a write in flight to finish.
   */
  async close(timeoutMs = 2_000): Promise<void> {
    this.lifetime.abort();
    await this.settle(timeoutMs);
  }

  private async run<T>(callId: string, what: string, write: () => Promise<T>): Promise<T | undefined> {
    if (this.lifetime.signal.aborted) {
      this.counters.gaveUp++;
      this.log?.error({ callId, what }, `${what} abandoned at shutdown; the record may be incomplete`);
      return undefined;
    }
    const deadline = performance.now() + this.opts.retryDeadlineMs;
    const policy = persistentRetry({
      initialDelayMs: this.opts.initialDelayMs,
      maxDelayMs: this.opts.maxDelayMs,
      retryable: (err) => !this.lifetime.signal.aborted && !isAbortError(err) && isRetryableWriteError(err) && performance.now() < deadline,
    });
    const onRetry = policy.onRetry((reason) => {
      this.counters.retries++;
      if ('error' in reason) this.noteFailure(reason.error, callId, what);
    });
    try {
      const result = await policy.execute(() => write(), this.lifetime.signal);
      this.counters.written++;
      if (this.failingSince !== undefined) {
        this.log?.info({ outageMs: Math.round(performance.now() - this.failingSince), pending: this.pending - 1 }, 'call writes recovered');
        this.failingSince = undefined;
      }
      return result;
    } catch (err) {
      this.lastError = errorText(err);
      if (isAbortError(err) || this.lifetime.signal.aborted) {
        this.counters.gaveUp++;
        this.log?.error({ callId, what, err: this.lastError }, `${what} abandoned at shutdown; the record may be incomplete`);
      } else if (isRetryableWriteError(err)) {
        this.counters.gaveUp++;
        this.log?.error({ callId, what, err: this.lastError, retryDeadlineMs: this.opts.retryDeadlineMs }, `${what} failed until its retry deadline; given up`);
      } else {
        this.counters.rejected++;
        this.log?.error({ callId, what, err: this.lastError }, `${what} failed and cannot succeed on retry`);
      }
      return undefined;
    } finally {
      onRetry.dispose();
    }
  }

  private noteFailure(err: unknown, callId: string, what: string): void {
    this.lastError = errorText(err);
    if (this.failingSince === undefined) {
      this.failingSince = performance.now();
      this.log?.warn({ callId, what, err: this.lastError, pending: this.pending }, 'call write failed; retrying in order behind it');
    }
  }
}
