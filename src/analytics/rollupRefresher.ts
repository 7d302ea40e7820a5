// Keeps the hourly rollups (migration 008) close to the calls: every few seconds, recomputes the hours
// whose calls changed. Figures never depend on it being current — a dirty hour is read from the raw
// calls — so a pass that fails or lags only costs query time, and it is retried on the next tick.
// Several instances may run it: a transaction-level advisory lock lets one pass run at a time.
import type pg from 'pg';
import { startPeriodic } from '../periodic.ts';
import { refreshDirtyHours } from './rollup.ts';

export interface RefresherLogger {
  warn(obj: object, msg: string): void;
}

/** Hours refreshed per transaction: bounds how long one pass holds its lock. */
const HOURS_PER_PASS = 100;

/** Runs a refresh pass now and every `intervalMs` until stopped; the returned function stops it and waits for a pass in flight. */
export function startRollupRefresher(pool: pg.Pool, log: RefresherLogger, intervalMs = 5000): () => Promise<void> {
  return startPeriodic(
    async (stopped) => {
      // Nothing dirty, the usual case at rest: one indexed read instead of a pass's transaction of four
      // statements every few seconds (on embedded PGlite every query is this process's CPU).
      const { rows } = await pool.query<{ dirty: boolean }>('SELECT EXISTS (SELECT 1 FROM analytics_dirty_hours) AS dirty');
      if (rows[0]?.dirty === false) return;
      // A backlog (after an outage, or the migration's first fill) drains in consecutive passes.
      while (!stopped.aborted && (await refreshDirtyHours(pool, HOURS_PER_PASS)) === HOURS_PER_PASS);
    },
    intervalMs,
    (err) => log.warn({ err }, 'analytics rollup refresh failed; retrying on the next tick'),
  );
}
