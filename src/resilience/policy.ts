// One way to retry, on cockatiel (a maintained resilience library: retry, backoff, breaker, timeout):
// capped exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter",
// 2015): the n-th wait is random(0, min(cap, base · 2^n)). Only errors the caller classes as retryable
// are retried; an abort ends at once. Network retries wait on the wall clock (a vendor's recovery has
// nothing to do with a call's media clock). The agent's providers retry through `retryPolicy`, the
// writes that must converge (call writes, the change feed's reconnect) through `persistentRetry`, the
// event log's flusher waits `equalJitterDelayMs` between batch attempts, and every provider has a
// `CircuitBreaker` built on cockatiel's.
import {
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  ExponentialBackoff,
  handleAll,
  handleWhen,
  retry,
  type CircuitBreakerPolicy,
  type IRetryBackoffContext,
  type RetryPolicy,
} from 'cockatiel';
import { createError, type GatewayError } from '../errors.ts';

export interface BackoffOptions {
  /** Extra attempts after the first. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injected for deterministic tests; defaults to Math.random. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { retries: 2, baseDelayMs: 100, maxDelayMs: 1000 } as const;

/** The capped exponential ceiling of retry `attempt` (1 = the first retry). */
function ceilingMs(o: Omit<BackoffOptions, 'retries'>, attempt: number): number {
  return Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
}

/** The wait before retry `attempt` (1 = the first retry). */
export function fullJitterDelayMs(o: Omit<BackoffOptions, 'retries'>, attempt: number): number {
  return Math.floor((o.random ?? Math.random)() * ceilingMs(o, attempt));
}

/**
 * "Equal jitter" (same article): half the ceiling fixed, half random. For a loop that retries while
 * new work piles up (the event log), the fixed half keeps a floor under the wait, and the random half
 * keeps instances that lost the same database from retrying in lockstep when it returns.
 */
export function equalJitterDelayMs(o: Omit<BackoffOptions, 'retries'>, attempt: number): number {
  const ceiling = ceilingMs(o, attempt);
  return ceiling / 2 + (o.random ?? Math.random)() * (ceiling / 2);
}

/** A cockatiel retry policy: `retryable(err)` decides, `retries` bounds, full-jitter backoff waits. */
export function retryPolicy(o: BackoffOptions & { retryable: (err: unknown) => boolean }): RetryPolicy {
  return retry(handleWhen(o.retryable), {
    maxAttempts: o.retries,
    backoff: new DelegateBackoff((ctx: IRetryBackoffContext<unknown>) => fullJitterDelayMs(o, ctx.attempt)),
  });
}

/**
 * Retry until it works or `retryable(err)` says stop (a deadline, shutdown, a permanent error):
 * cockatiel's capped exponential backoff (decorrelated jitter). Its waits are unref'd, so a database
 * that stays down does not hold the process open; stop it early with the signal given to execute().
 * `holdOpen`: the waits keep the process alive — for a retry that is all the process is doing yet
 * (the start waiting for its database), where an unref'd wait would let it exit mid-wait.
 */
export function persistentRetry(o: { initialDelayMs: number; maxDelayMs: number; retryable?: (err: unknown) => boolean; holdOpen?: boolean }): RetryPolicy {
  const policy = retry(o.retryable ? handleWhen(o.retryable) : handleAll, {
    maxAttempts: Number.MAX_SAFE_INTEGER,
    backoff: new ExponentialBackoff({ initialDelay: o.initialDelayMs, maxDelay: o.maxDelayMs }),
  });
  return o.holdOpen === true ? policy : policy.dangerouslyUnref();
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

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
}

export const DEFAULT_BREAKER: CircuitBreakerOptions = { failureThreshold: 3, cooldownMs: 30_000 };

/** One call through a breaker: report how it ended exactly once. */
export interface BreakerTrial {
  success(): Promise<void>;
  failure(err: unknown): Promise<void>;
  /** Ended without a verdict (aborted by our caller): not counted as a failure. */
  release(): Promise<void>;
}

/** Marks a trial released without a verdict: the breaker's filter does not count it as a failure. */
class Released extends Error {}

const STATE: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Open]: 'open',
  [CircuitState.Isolated]: 'open',
};

/**
 * A circuit breaker per provider (Nygard, "Release It!", ch. 5) on cockatiel's: after
 * `failureThreshold` consecutive failures the circuit opens and calls fail fast for `cooldownMs`; then
 * one trial call is let through (half-open) and its outcome closes or re-opens the circuit. This stops
 * a dead vendor from adding its timeout to every turn of every call; the fallback chain answers instead.
 * A streamed call's outcome is known only when its stream ends, so `enter()` hands out a trial that
 * settles the breaker's execution later. While a half-open trial runs, other calls fail fast instead
 * of queueing behind it (cockatiel would make them wait). Cockatiel counts an aborted half-open trial
 * as a success (the circuit closes): the vendor was answering until our caller hung up. Wall clock
 * (cockatiel's): this state is shared by all calls of the process and describes the vendor, not a call.
 */
export class CircuitBreaker {
  readonly name: string;
  private readonly policy: CircuitBreakerPolicy;

  constructor(name: string, opts: CircuitBreakerOptions = DEFAULT_BREAKER) {
    if (!(opts.failureThreshold >= 1)) throw new RangeError(`failureThreshold must be ≥ 1 (got ${opts.failureThreshold})`);
    if (!(opts.cooldownMs >= 0)) throw new RangeError(`cooldownMs must be ≥ 0 (got ${opts.cooldownMs})`);
    this.name = name;
    this.policy = circuitBreaker(
      handleWhen((err) => !(err instanceof Released)),
      { halfOpenAfter: opts.cooldownMs, breaker: new ConsecutiveBreaker(opts.failureThreshold) },
    );
  }

  /** The state as last decided (an open circuit turns half-open at the next call after the cooldown). */
  current(): BreakerState {
    return STATE[this.policy.state];
  }

  /** Let a call through, or undefined when the circuit is open or a half-open trial is running. */
  enter(): BreakerTrial | undefined {
    if (this.policy.state === CircuitState.HalfOpen) return undefined;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const outcome = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // cockatiel calls `fn` synchronously when it lets the call through, and not at all when the circuit is open.
    let entered = false;
    const decided = this.policy
      .execute(() => {
        entered = true;
        return outcome;
      })
      .then(
        () => undefined,
        () => undefined,
      );
    if (!entered) return undefined;
    return {
      success: () => (resolve(), decided),
      failure: (err) => (reject(err ?? new Error('failed')), decided),
      release: () => (reject(new Released()), decided),
    };
  }

  openError(): GatewayError {
    return createError('GW_ERR_PROVIDER_CIRCUIT_OPEN', `${this.name} is failing; its circuit is open, so the fallback answers until the cooldown ends`, {
      statusCode: 503,
      retryable: false,
      details: { provider: this.name },
    });
  }
}
