// Sign-in attempts are limited per client address and per user name, so neither one address nor a
// botnet guessing one account's password gets more than a few tries a minute. The counts live in the
// database the API's own rate limit uses (gateway/rateLimitStore.ts, table rate_limits), so the limit
// holds across every worker and instance of a deployment (DESIGN decision 12): guessing round-robin
// over instances gains nothing. When the database does not answer in time that store counts in
// memory for a while (per process), so a stalled database never blocks signing in.
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';

const WINDOW_MS = 60_000;
/** Keys in the shared table: apart from the API's (`METHOD /route|client`). */
const PREFIX = 'login|';

export class LoginLimiter {
  private readonly perMinute: number;
  private readonly store: FastifyRateLimitStore;

  constructor(perMinute: number, store: FastifyRateLimitStoreCtor) {
    this.perMinute = perMinute;
    this.store = new store({});
  }

  /** Records an attempt; ms to wait when over either limit, else 0. */
  async hit(address: string, name: string): Promise<number> {
    const [byAddress, byName] = await Promise.all([this.count(`ip:${address}`), this.count(`user:${name.toLowerCase()}`)]);
    return Math.max(byAddress, byName);
  }

  private count(key: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.store.incr(
        `${PREFIX}${key}`,
        (err, result) => {
          if (err !== null || result === undefined) reject(err ?? new Error('no count'));
          else resolve(result.current > this.perMinute ? Math.max(1, result.ttl) : 0);
        },
        WINDOW_MS,
        this.perMinute,
      );
    });
  }
}
