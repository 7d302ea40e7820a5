// A @fastify/rate-limit store that counts in PostgreSQL (or PGlite), so a limit holds across every
// instance of a deployment (DESIGN decision 12). The count is one upsert per request. When the
// database is slow or down the request must not wait on it: a timeout (cockatiel) and a circuit
// breaker send counting to the plugin's own in-memory LRU store until the database answers again
// (limits are then per process, as without this store). Every request is also counted in memory, so
// the per-process count a stall falls back to already holds the requests made before it: a client
// near its limit when the database stops does not get a fresh quota.
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

type LocalStoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, cache: number) => FastifyRateLimitStore;
// The plugin's LRU store (not in its public exports, but a stable file of the package).
const LocalStore = createRequire(import.meta.url)('@fastify/rate-limit/store/LocalStore.js') as LocalStoreCtor;

// One statement counts and, when asked ($4), removes windows long over: no separate cleanup task.
const COUNT_SQL = `
WITH cleanup AS (
  DELETE FROM rate_limits WHERE $4::boolean AND window_start < now() - make_interval(secs => $2::double precision / 1000) - interval '1 minute'
)
INSERT INTO rate_limits AS r (key, window_start, count) VALUES ($1, now(), 1)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN r.window_start <= now() - make_interval(secs => $2::double precision / 1000) THEN 1 ELSE r.count + 1 END,
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

export function sharedRateLimitStore(db: Pick<pg.Pool, 'query'>, opts: SharedRateLimitStoreOptions): FastifyRateLimitStoreCtor {
  const timeoutMs = opts.timeoutMs ?? SHARED_COUNT_TIMEOUT_MS;
  const waitMs = Math.min(opts.waitMs ?? timeoutMs, timeoutMs);
  // One policy per store: when the database fails, every route of the store falls back together.
  const policy = wrap(circuitBreaker(handleAll, { halfOpenAfter: RETRY_DATABASE_AFTER_MS, breaker: new ConsecutiveBreaker(FAILURES_BEFORE_FALLBACK) }), timeout(timeoutMs, TimeoutStrategy.Aggressive));
  let lastCleanup = 0;

  class SharedRateLimitStore implements FastifyRateLimitStore {
    readonly #prefix: string;
    readonly #fallback: FastifyRateLimitStore;

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
      const now = Date.now();
      const cleanup = now - lastCleanup > CLEANUP_INTERVAL_MS;
      if (cleanup) lastCleanup = now;
      void policy.execute(() => db.query<{ current: number; ttl: number }>(COUNT_SQL, [`${this.#prefix}${key}`, timeWindow, max, cleanup])).then(
        (r) => {
          const row = r.rows[0];
          // The shared count holds every instance's requests that reached the database; this process's
          // own count also holds those made while it did not (right after a stall): the larger decides.
          const shared = row === undefined ? undefined : { current: Number(row.current), ttl: Number(row.ttl) };
          decide(shared === undefined || local.current > shared.current ? local : shared);
        },
        () => decide(local),
      );
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
