// One way to retry, on cockatiel (a maintained resilience library: retry, backoff, breaker, timeout):
// capped exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter",
// 2015): the n-th wait is random(0, min(cap, base · 2^n)). Only errors the caller classes as retryable
// are retried; an abort ends at once. Network retries wait on the wall clock (a vendor's recovery has
// nothing to do with a call's media clock). The agent's providers use it today; the store's write
// retries can adopt `retryPolicy` as they are.
import { DelegateBackoff, handleWhen, retry, type IRetryBackoffContext, type RetryPolicy } from 'cockatiel';

export interface BackoffOptions {
  /** Extra attempts after the first. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injected for deterministic tests; defaults to Math.random. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { retries: 2, baseDelayMs: 100, maxDelayMs: 1000 } as const;

/** The wait before retry `attempt` (1 = the first retry). */
export function fullJitterDelayMs(o: BackoffOptions, attempt: number): number {
  const cap = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor((o.random ?? Math.random)() * cap);
}

/** A cockatiel retry policy: `retryable(err)` decides, `retries` bounds, full-jitter backoff waits. */
export function retryPolicy(o: BackoffOptions & { retryable: (err: unknown) => boolean }): RetryPolicy {
  return retry(handleWhen(o.retryable), {
    maxAttempts: o.retries,
    backoff: new DelegateBackoff((ctx: IRetryBackoffContext<unknown>) => fullJitterDelayMs(o, ctx.attempt)),
  });
}

/** Resolves after `ms` of wall time; rejects with the abort reason as soon as `signal` aborts. */
export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const reason = (): Error => (signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
    if (signal.aborted) {
      reject(reason());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(reason());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
