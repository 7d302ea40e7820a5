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
      // A backlog (after an outage, or the migration's first fill) drains in consecutive passes.
      while (!stopped.aborted && (await refreshDirtyHours(pool, HOURS_PER_PASS)) === HOURS_PER_PASS);
    },
    intervalMs,
    (err) => log.warn({ err }, 'analytics rollup refresh failed; retrying on the next tick'),
  );
}
