// Sign-in attempts are limited per client address and per user name, so neither one address nor a
// botnet guessing one account's password gets more than a few tries a minute.
import { RateLimiter } from '../gateway/rateLimit.ts';

export class LoginLimiter {
  private readonly byAddress: RateLimiter;
  private readonly byName: RateLimiter;

  constructor(perMinute: number) {
    this.byAddress = new RateLimiter(perMinute);
    this.byName = new RateLimiter(perMinute);
  }

  /** Records an attempt; ms to wait when over either limit, else 0. */
  hit(address: string, name: string): number {
    return Math.max(this.byAddress.hit(address), this.byName.hit(name.toLowerCase()));
  }
}
