// A @fastify/rate-limit store that counts in PostgreSQL (or PGlite), so a limit holds across every
// instance of a deployment (DESIGN decision 12). The count is one upsert per request. When the
// database is slow or down the request must not wait on it: a timeout (cockatiel) and a circuit
// breaker send counting to the plugin's own in-memory LRU store until the database answers again
// (limits are then per process, as without this store). Every request is also counted in memory, so
// the per-process count a stall falls back to already holds the requests made before it: a client
// near its limit when the database stops does not get a fresh quota.
//
// A busy client's count is leased, so a burst of webhooks does not cost a query each: the database
// adds a block of k requests at once (k from this process's rate for the key over the last second,
// at most a twentieth of the limit and a quarter of what the last shared count left), and the next
// k−1 requests are numbered from it in memory. The shared count is then never below the requests
// made (a limit is never looser across instances); it can be above them by the unused rest of each
// process's block, which shrinks to one request as a client nears its limit, so at worst a few
// requests near the limit are refused early. Once the shared count is over the limit, the client's
// further requests in that window are refused here without asking (they could not be let through).
// A quiet client (one request a second or fewer) still
// costs one query per request and is counted exactly as before.
//
// A request may wait less than the database is given (`waitMs` < `timeoutMs`): it is decided by the
// in-memory count while the shared count goes on in the background — the database still counts the
// request, and only a count slower than `timeoutMs` is a failure for the breaker. Voice webhooks use
// this: a caller hears ringing while the webhook waits, so it never waits long for a shared count.
import { createRequire } from 'node:module';
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import { circuitBreaker, ConsecutiveBreaker, handleAll, timeout, TimeoutStrategy, wrap } from 'cockatiel';
import type pg from 'pg';

/** How long a request waits for its count before the in-memory fallback counts it. */
export const SHARED_COUNT_TIMEOUT_MS = 250;
/** Failures in a row (timeouts, errors) after which counting moves to memory, so a stall delays few requests. */
const FAILURES_BEFORE_FALLBACK = 3;
/** Then, how long counting stays in memory before the database is tried again. */
const RETRY_DATABASE_AFTER_MS = 5_000;
/** Rows of windows that ended this long ago are deleted (at most once a minute per instance). */
const CLEANUP_INTERVAL_MS = 60_000;
/** A lease is at most this share of the limit, so unused rests of several processes' blocks stay small. */
const LEASE_MAX_SHARE = 1 / 20;
/** The rate a lease is sized from: this process's requests for the key over the last such span. */
const LEASE_RATE_SPAN_MS = 1_000;

type LocalStoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, cache: number) => FastifyRateLimitStore;
// The plugin's LRU store (not in its public exports, but a stable file of the package).
const LocalStore = createRequire(import.meta.url)('@fastify/rate-limit/store/LocalStore.js') as LocalStoreCtor;

// One statement counts and, when asked ($4), removes windows long over: no separate cleanup task.
const COUNT_SQL = `
WITH cleanup AS (
  DELETE FROM rate_limits WHERE $4::boolean AND window_start < now() - make_interval(secs => $2::double precision / 1000) - interval '1 minute'
)
INSERT INTO rate_limits AS r (key, window_start, count) VALUES ($1, now(), $5::int)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN r.window_start <= now() - make_interval(secs => $2::double precision / 1000) THEN $5::int ELSE r.count + $5::int END,
  window_start = CASE WHEN r.window_start <= now() - make_interval(secs => $2::double precision / 1000) THEN now() ELSE r.window_start END
RETURNING r.count AS current,
  greatest(0, ceil(extract(epoch FROM r.window_start + make_interval(secs => $2::double precision / 1000) - now()) * 1000))::int AS ttl,
  $3::int AS max`;

export interface SharedRateLimitStoreOptions {
  /** Keys the in-memory count remembers at most (least recently seen forgotten first). */
  fallbackCache: number;
  /** How long the database is given to count before the count is a failure (default SHARED_COUNT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** How long a request waits for the shared count before the in-memory count decides it (default: timeoutMs). */
  waitMs?: number;
}

type Count = { current: number; ttl: number };

/** A block of a key's shared count this process took (see the top of the file). */
interface Lease {
  /** The number of the next request counted from the block, and the block's last number. */
  next: number;
  last: number;
  /** Date.now() when the block's window ends (then the database starts a new one). */
  endsAt: number;
  /** The shared count when the block was taken: what is left under the limit sizes the next one. */
  shared: number;
  /** This process's requests for the key since rateFrom, and over the span before. */
  recent: number;
  rateFrom: number;
  rate: number;
  /** A block is being taken (its query is in flight). */
  taking: boolean;
}

export function sharedRateLimitStore(db: Pick<pg.Pool, 'query'>, opts: SharedRateLimitStoreOptions): FastifyRateLimitStoreCtor {
  const timeoutMs = opts.timeoutMs ?? SHARED_COUNT_TIMEOUT_MS;
  const waitMs = Math.min(opts.waitMs ?? timeoutMs, timeoutMs);
  // One policy per store: when the database fails, every route of the store falls back together.
  const policy = wrap(circuitBreaker(handleAll, { halfOpenAfter: RETRY_DATABASE_AFTER_MS, breaker: new ConsecutiveBreaker(FAILURES_BEFORE_FALLBACK) }), timeout(timeoutMs, TimeoutStrategy.Aggressive));
  let lastCleanup = 0;

  class SharedRateLimitStore implements FastifyRateLimitStore {
    readonly #prefix: string;
    readonly #fallback: FastifyRateLimitStore;
    /** Leases by key, the least recently renewed first (bounded like the fallback). */
    readonly #leases = new Map<string, Lease>();

    constructor(_options: unknown, prefix = '') {
      this.#prefix = prefix;
      this.#fallback = new LocalStore(false, false, opts.fallbackCache);
    }

    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number, max: number): void {
      // The in-memory count, for every request (LocalStore answers synchronously; its object is live).
      let local: Count = { current: 1, ttl: timeWindow };
      this.#fallback.incr(
        key,
        (_err, r) => {
          if (r !== undefined) local = { current: r.current, ttl: r.ttl };
        },
        timeWindow,
        max,
      );
      const now = Date.now();
      const lease = this.#lease(key, now);
      if (now < lease.endsAt && (lease.next <= lease.last || lease.shared >= max)) {
        // From the block; or over the limit already in this window: refused whatever any instance
        // counts until the window ends (where the database would start a new count anyway).
        const current = lease.next <= lease.last ? lease.next++ : lease.shared + 1;
        callback(null, local.current > current ? local : { current, ttl: lease.endsAt - now });
        return;
      }
      // One block at a time per key: requests that come while it is being taken count one each (a
      // burst of concurrent requests must not each take a block).
      const rate = lease.taking ? 1 : Math.max(lease.rate, lease.recent);
      const block = Math.max(1, Math.min(rate, Math.floor(max * LEASE_MAX_SHARE), Math.floor((max - lease.shared) / 4)));
      if (block > 1) lease.taking = true;
      let timer: NodeJS.Timeout | undefined;
      let decided = false;
      const decide = (count: Count): void => {
        if (decided) return;
        decided = true;
        clearTimeout(timer);
        callback(null, count);
      };
      if (waitMs < timeoutMs) {
        timer = setTimeout(() => decide(local), waitMs);
        timer.unref();
      }
      const cleanup = now - lastCleanup > CLEANUP_INTERVAL_MS;
      if (cleanup) lastCleanup = now;
      void policy.execute(() => db.query<{ current: number; ttl: number }>(COUNT_SQL, [`${this.#prefix}${key}`, timeWindow, max, cleanup, block])).then(
        (r) => {
          const row = r.rows[0];
          // The block is the requests numbered current−block+1 … current: this one is the first.
          const shared = row === undefined ? undefined : { current: Number(row.current) - block + 1, ttl: Number(row.ttl) };
          if (block > 1) lease.taking = false;
          if (shared !== undefined) {
            // A single count (block 1) leaves the block being used alone: it only tells the shared count.
            if (block > 1) {
              lease.next = shared.current + 1;
              lease.last = shared.current + block - 1;
            }
            lease.shared = shared.current + block - 1;
            lease.endsAt = Date.now() + shared.ttl;
          }
          // The shared count holds every instance's requests that reached the database; this process's
          // own count also holds those made while it did not (right after a stall): the larger decides.
          decide(shared === undefined || local.current > shared.current ? local : shared);
        },
        () => {
          if (block > 1) lease.taking = false;
          decide(local);
        },
      );
    }

    /** The key's lease (a spent one if none), with this request counted in its rate. */
    #lease(key: string, now: number): Lease {
      let lease = this.#leases.get(key);
      if (lease === undefined) {
        lease = { next: 1, last: 0, endsAt: 0, shared: 0, recent: 0, rateFrom: now, rate: 1, taking: false };
        this.#leases.set(key, lease);
        if (this.#leases.size > opts.fallbackCache) this.#leases.delete(this.#leases.keys().next().value as string);
      }
      if (now - lease.rateFrom >= LEASE_RATE_SPAN_MS) {
        // A span with no request in it (or several) means the client is slow: back to one at a time.
        lease.rate = now - lease.rateFrom < 2 * LEASE_RATE_SPAN_MS ? Math.max(1, lease.recent) : 1;
        lease.recent = 0;
        lease.rateFrom = now;
      }
      lease.recent++;
      if (now >= lease.endsAt) lease.shared = 0;
      return lease;
    }

    child(routeOptions: Parameters<FastifyRateLimitStore['child']>[0]): FastifyRateLimitStore {
      // What the plugin passes at run time is its merged route parameters, the route under `routeInfo`.
      const route = (routeOptions as unknown as { routeInfo?: { method?: string | string[]; url?: string } }).routeInfo;
      const method = Array.isArray(route?.method) ? route.method.join(',') : (route?.method ?? '');
      return new SharedRateLimitStore(undefined, `${this.#prefix}${method} ${route?.url ?? ''}|`);
    }
  }
  return SharedRateLimitStore;
}
