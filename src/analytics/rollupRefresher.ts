// Keeps the hourly rollups (migration 008) close to the calls: every few seconds, recomputes the hours
// whose calls changed. Figures never depend on it being current — a dirty hour is read from the raw
// calls — so a pass that fails or lags only costs query time, and it is retried on the next tick.
// Several instances may run it: a transaction-level advisory lock lets one pass run at a time.
import type pg from 'pg';
import { startPeriodic } from '../periodic.ts';
import { OPEN_HOUR_SQL, refreshDirtyHours } from './rollup.ts';

export interface RefresherLogger {
  warn(obj: object, msg: string): void;
}

/** Hours refreshed per transaction: bounds how long one pass holds its lock. */
const HOURS_PER_PASS = 100;

/**
 * How often the hour under way is recomputed while its calls keep changing. Every answer, AMD verdict
 * and end of a live call marks its hour dirty again, so refreshing it on every 5 s pass recomputed
 * the whole hour's calls (three aggregations over all of them) every 5 s: work that grows with the
 * hour's calls, on embedded PGlite on this process's own CPU, and inside every media bench pass.
 * Readers never depend on it: a dirty hour is read from the raw calls (rollupSource.ts).
 */
export const OPEN_HOUR_REFRESH_MS = 60_000;

/**
 * Runs a refresh pass now and every `intervalMs` until stopped; the returned function stops it and
 * waits for a pass in flight. Past hours made dirty are refreshed on the next pass; the hour under way
 * at most once per `openHourEveryMs`.
 */
export function startRollupRefresher(pool: pg.Pool, log: RefresherLogger, intervalMs = 5000, openHourEveryMs = OPEN_HOUR_REFRESH_MS): () => Promise<void> {
  let openHourRefreshedAt = Number.NEGATIVE_INFINITY;
  return startPeriodic(
    async (stopped) => {
      const openHour = performance.now() - openHourRefreshedAt >= openHourEveryMs;
      // Nothing dirty (that this pass would refresh), the usual case at rest: one indexed read instead
      // of a pass's transaction of four statements every few seconds (on embedded PGlite every query is
      // this process's CPU).
      const { rows } = await pool.query<{ dirty: boolean }>(`SELECT EXISTS (SELECT 1 FROM analytics_dirty_hours WHERE $1::boolean OR hour < ${OPEN_HOUR_SQL}) AS dirty`, [openHour]);
      if (rows[0]?.dirty === false) return;
      if (openHour) openHourRefreshedAt = performance.now();
      // A backlog (after an outage, or the migration's first fill) drains in consecutive passes.
      while (!stopped.aborted && (await refreshDirtyHours(pool, HOURS_PER_PASS, { openHour })) === HOURS_PER_PASS);
    },
    intervalMs,
    (err) => log.warn({ err }, 'analytics rollup refresh failed; retrying on the next tick'),
  );
}
