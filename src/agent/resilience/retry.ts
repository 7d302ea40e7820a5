// Retrying a provider call: the one policy (src/resilience/policy.ts, on cockatiel) with the
// providers' rule for what is worth retrying (providerError.ts: 5xx, 408/429, timeouts, dropped
// connections). Aborts end at once and are passed up unchanged; the final failure is a GatewayError.
import { isAbortError } from '../../errors.ts';
import { retryPolicy, type BackoffOptions } from '../../resilience/policy.ts';
import { isRetryableError, toProviderError } from './providerError.ts';

export interface RetryOptions extends BackoffOptions {
  signal: AbortSignal;
}

/** Run `attempt` (n = 0 first) until it succeeds, a non-retryable error occurs, or retries run out. */
export async function withRetry<T>(provider: string, attempt: (n: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const policy = retryPolicy({ ...opts, retryable: (err) => !isAbortError(err) && !opts.signal.aborted && isRetryableError(toProviderError(provider, err)) });
  try {
    return await policy.execute(({ attempt: n }) => {
      // cockatiel's backoff wait is not abortable: an abort during it ends here, before another call.
      opts.signal.throwIfAborted();
      return attempt(n);
    }, opts.signal);
  } catch (err) {
    if (isAbortError(err) || opts.signal.aborted) throw err;
    throw toProviderError(provider, err);
  }
}
