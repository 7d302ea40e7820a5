// One policy for every streaming provider call: circuit breaker check, a first-chunk timeout and an
// idle (stall) timeout, and retries with backoff (withRetry, the one policy) — but only until the
// first chunk has been handed on. After that a retry would repeat words the caller already heard, so
// a mid-stream failure is thrown to the caller (which truncates or falls back). A stream aborted by
// the caller's signal ends quietly.
import { createError, type GatewayError } from '../../errors.ts';
import type { BreakerTrial, CircuitBreaker } from '../../resilience/policy.ts';
import { toProviderError } from './providerError.ts';
import { withRetry } from './retry.ts';

export interface StreamPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** From the request to the first chunk. */
  firstChunkTimeoutMs: number;
  /** Longest gap between chunks (the consumer's own time excluded). */
  idleTimeoutMs: number;
}

export const DEFAULT_STREAM_POLICY: StreamPolicy = { retries: 2, baseDelayMs: 100, maxDelayMs: 1000, firstChunkTimeoutMs: 5000, idleTimeoutMs: 5000 };

/** One attempt's upstream: each read is bounded by a timeout that aborts the attempt. */
class TimedStream<T> {
  timedOut = false;
  private readonly provider: string;
  private readonly signal: AbortSignal;
  private readonly ac = new AbortController();
  private readonly iterator: AsyncIterator<T>;
  private readonly onAbort = (): void => this.ac.abort(this.signal.reason);
  private timer: NodeJS.Timeout | undefined;

  constructor(provider: string, signal: AbortSignal, open: (signal: AbortSignal) => AsyncIterable<T>) {
    this.provider = provider;
    this.signal = signal;
    signal.addEventListener('abort', this.onAbort, { once: true });
    this.iterator = open(this.ac.signal)[Symbol.asyncIterator]();
  }

  async next(timeoutMs: number): Promise<IteratorResult<T>> {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.ac.abort(createError('GW_ERR_PROVIDER_TIMEOUT', `${this.provider} sent nothing for ${timeoutMs} ms`, { retryable: true, statusCode: 504 }));
    }, timeoutMs);
    try {
      return await this.iterator.next();
    } finally {
      clearTimeout(this.timer);
    }
  }

  wrap(err: unknown): GatewayError {
    return this.timedOut
      ? createError('GW_ERR_PROVIDER_TIMEOUT', `${this.provider} timed out; retried or fell back`, { retryable: true, statusCode: 504, details: { provider: this.provider }, cause: err })
      : toProviderError(this.provider, err);
  }

  /** As leaving a `for await` does: let the upstream clean up. */
  close(): void {
    clearTimeout(this.timer);
    this.signal.removeEventListener('abort', this.onAbort);
    void this.iterator.return?.()?.catch(() => undefined);
  }
}

export async function* resilientStream<T>(
  provider: string,
  policy: StreamPolicy,
  breaker: CircuitBreaker | undefined,
  signal: AbortSignal,
  open: (signal: AbortSignal) => AsyncIterable<T>,
  random: () => number = Math.random,
): AsyncGenerator<T> {
  if (signal.aborted) return;
  // Until the first chunk: each attempt asks the breaker, and retryable failures are retried.
  const attempt = async (): Promise<{ stream: TimedStream<T>; first: IteratorResult<T>; trial: BreakerTrial | undefined }> => {
    const trial = breaker?.enter();
    if (breaker && !trial) throw breaker.openError();
    const stream = new TimedStream(provider, signal, open);
    try {
      return { stream, first: await stream.next(policy.firstChunkTimeoutMs), trial };
    } catch (err) {
      stream.close();
      if (signal.aborted && !stream.timedOut) {
        await trial?.release();
        throw err;
      }
      const wrapped = stream.wrap(err);
      await trial?.failure(wrapped);
      throw wrapped;
    }
  };
  let started: Awaited<ReturnType<typeof attempt>>;
  try {
    started = await withRetry(provider, attempt, { ...policy, signal, random });
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  }
  // After the first chunk: no retry, the failure goes to the caller.
  const { stream, first, trial } = started;
  try {
    let next = first;
    while (!next.done) {
      yield next.value;
      if (signal.aborted) break;
      next = await stream.next(policy.idleTimeoutMs);
    }
    if (signal.aborted) {
      await trial?.release();
      return;
    }
    await trial?.success();
  } catch (err) {
    if (signal.aborted && !stream.timedOut) {
      await trial?.release();
      return;
    }
    const wrapped = stream.wrap(err);
    await trial?.failure(wrapped);
    throw wrapped;
  } finally {
    stream.close();
    // A consumer that stops reading early ends the trial without a verdict (a no-op once settled).
    await trial?.release();
  }
}
