// A circuit breaker per provider (Nygard, "Release It!", ch. 5): after `failureThreshold` consecutive
// failures the circuit opens and calls fail fast for `cooldownMs`; then one trial call is let through
// (half-open) and its outcome closes or re-opens the circuit. This stops a dead vendor from adding its
// timeout to every turn of every call; the fallback chain answers instead. Wall clock: this state is
// shared by all calls of the process and describes the vendor, not a call.
import { createError, type GatewayError } from '../../errors.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerOptions {
  failureThreshold: number;
  cooldownMs: number;
  now?: () => number;
}

export const DEFAULT_BREAKER: CircuitBreakerOptions = { failureThreshold: 3, cooldownMs: 30_000 };

export class CircuitBreaker {
  readonly name: string;
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;
  private failures = 0;
  private openedAt = 0;
  private state: BreakerState = 'closed';
  private trialInFlight = false;

  constructor(name: string, opts: CircuitBreakerOptions = DEFAULT_BREAKER) {
    if (!(opts.failureThreshold >= 1)) throw new RangeError(`failureThreshold must be ≥ 1 (got ${opts.failureThreshold})`);
    if (!(opts.cooldownMs >= 0)) throw new RangeError(`cooldownMs must be ≥ 0 (got ${opts.cooldownMs})`);
    this.name = name;
    this.threshold = opts.failureThreshold;
    this.cooldownMs = opts.cooldownMs;
    this.now = opts.now ?? (() => performance.now());
  }

  current(): BreakerState {
    if (this.state === 'open' && this.now() - this.openedAt >= this.cooldownMs) this.state = 'half_open';
    return this.state;
  }

  /** May a call go through now? In half-open, only one trial at a time. */
  allow(): boolean {
    const s = this.current();
    if (s === 'closed') return true;
    if (s === 'half_open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return true;
    }
    return false;
  }

  success(): void {
    this.failures = 0;
    this.state = 'closed';
    this.trialInFlight = false;
  }

  failure(): void {
    this.trialInFlight = false;
    this.failures++;
    if (this.state === 'half_open' || this.failures >= this.threshold) {
      this.state = 'open';
      this.openedAt = this.now();
    }
  }

  /** Release a half-open trial that ended without a verdict (aborted by the caller). */
  release(): void {
    this.trialInFlight = false;
  }

  openError(): GatewayError {
    return createError('GW_ERR_PROVIDER_CIRCUIT_OPEN', `${this.name} is failing; its circuit is open, so the fallback answers until the cooldown ends`, {
      statusCode: 503,
      retryable: false,
      details: { provider: this.name },
    });
  }
}
