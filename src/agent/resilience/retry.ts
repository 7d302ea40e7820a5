// Retries with capped exponential backoff and full jitter (AWS Architecture Blog, "Exponential
// Backoff and Jitter", 2015): sleep = random(0, min(cap, base * 2^attempt)). Only errors classified as
// retryable are retried; aborts end at once. Network retries wait on the wall clock (a vendor's
// recovery has nothing to do with the call's media clock), but every wait is cut short by the signal.
import { isAbortError } from '../../errors.ts';
import { isRetryableError, toProviderError } from './providerError.ts';

export interface RetryOptions {
  /** Extra attempts after the first. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  signal: AbortSignal;
  /** Injected for deterministic tests; defaults to Math.random. */
  random?: () => number;
}

export const DEFAULT_RETRY = { retries: 2, baseDelayMs: 100, maxDelayMs: 1000 } as const;

export function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Run `attempt` until it succeeds, a non-retryable error occurs, or retries run out. */
export async function withRetry<T>(provider: string, attempt: (n: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const random = opts.random ?? Math.random;
  for (let n = 0; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (isAbortError(err) || opts.signal.aborted) throw err;
      const wrapped = toProviderError(provider, err);
      if (!isRetryableError(wrapped) || n >= opts.retries) throw wrapped;
      const cap = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** n);
      await abortableDelay(Math.floor(random() * cap), opts.signal);
    }
  }
}
