// One policy for every streaming provider call: circuit breaker check, a first-chunk timeout and an
// idle (stall) timeout, and retries with backoff — but only until the first chunk has been handed on.
// After that a retry would repeat words the caller already heard, so a mid-stream failure is thrown to
// the caller (which truncates or falls back). A stream aborted by the caller's signal ends quietly.
import { createError } from '../../errors.ts';
import type { CircuitBreaker } from './circuitBreaker.ts';
import { toProviderError } from './providerError.ts';
import { abortableDelay } from './retry.ts';

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

export async function* resilientStream<T>(
  provider: string,
  policy: StreamPolicy,
  breaker: CircuitBreaker | undefined,
  signal: AbortSignal,
  open: (signal: AbortSignal) => AsyncIterable<T>,
  random: () => number = Math.random,
): AsyncGenerator<T> {
  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) return;
    if (breaker && !breaker.allow()) throw breaker.openError();
    const ac = new AbortController();
    const onAbort = () => ac.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (ms: number) => {
      timer = setTimeout(() => {
        timedOut = true;
        ac.abort(createError('GW_ERR_PROVIDER_TIMEOUT', `${provider} sent nothing for ${ms} ms`, { retryable: true, statusCode: 504 }));
      }, ms);
    };
    let yielded = 0;
    try {
      arm(policy.firstChunkTimeoutMs);
      for await (const item of open(ac.signal)) {
        clearTimeout(timer);
        yielded++;
        yield item;
        if (signal.aborted) break;
        arm(policy.idleTimeoutMs);
      }
      clearTimeout(timer);
      if (signal.aborted) {
        breaker?.release();
        return;
      }
      breaker?.success();
      return;
    } catch (err) {
      clearTimeout(timer);
      if (signal.aborted && !timedOut) {
        breaker?.release();
        return;
      }
      const wrapped = timedOut
        ? createError('GW_ERR_PROVIDER_TIMEOUT', `${provider} timed out; retried or fell back`, { retryable: true, statusCode: 504, details: { provider }, cause: err })
        : toProviderError(provider, err);
      breaker?.failure();
      if (yielded > 0 || !wrapped.retryable || attempt >= policy.retries) throw wrapped;
      await abortableDelay(Math.floor(random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt)), signal).catch(() => undefined);
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
}
