// The hourly rollups behind the summary and volume (migration 008): what one rollup row holds, the
// one SQL aggregation that computes it from calls — used both to fill the rollup and to read raw
// calls for the hours the rollup cannot answer, so the two can never disagree — and the refresh
// pass that recomputes dirty hours.
import type pg from 'pg';
import { campaignIdSql } from './filters.ts';

/** Talk time in whole milliseconds (timestamps have millisecond precision, so this is exact). */
export const DURATION_MS_SQL = `(EXTRACT(EPOCH FROM (ended_at - answered_at)) * 1000)::bigint`;

/**
 * Lower bounds (ms) of the histogram buckets, as the SQL functions analytics_duration_bucket and
 * analytics_amd_bucket of migration 008 have them (a test holds them equal): bucket i (1-based, as
 * width_bucket numbers it) holds values from bound i up to bound i+1, bucket 0 anything negative.
 * The histogram only locates a percentile's bucket: the value itself is then read exactly from the
 * calls in that bucket (an index on the bucket), so the bounds trade rollup width against how many
 * calls that read sorts (a few percent of the range).
 */
export const DURATION_BOUNDS_MS: readonly number[] = [
  0, 1000, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 40_000, 45_000, 50_000, 55_000, 60_000, 70_000, 80_000, 90_000,
  100_000, 110_000, 120_000, 135_000, 150_000, 165_000, 180_000, 195_000, 210_000, 225_000, 240_000, 255_000, 270_000, 285_000, 300_000,
  330_000, 360_000, 420_000, 480_000, 600_000, 720_000, 900_000, 1_200_000, 1_800_000, 2_700_000, 3_600_000, 7_200_000,
];
export const AMD_BOUNDS_MS: readonly number[] = [
  0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250, 2500, 2750, 3000, 3250, 3500, 3750, 4000, 4500, 5000, 6000, 7000, 8000, 10_000, 15_000, 20_000, 30_000,
];

/** The bucket of a call's talk time and of its AMD decision time (migration 008's functions, indexed). */
export const DURATION_BUCKET_SQL = 'analytics_duration_bucket(answered_at, ended_at)';
export const AMD_BUCKET_SQL = 'analytics_amd_bucket(amd_decision_ms)';

/** Dense `ARRAY[n in bucket 0, …, n in bucket last]` from rows already grouped by bucket `b` with `n` values each. */
function histogramSql(bounds: readonly number[]): string {
  return `ARRAY[${Array.from({ length: bounds.length + 1 }, (_, i) => `COALESCE(sum(n) FILTER (WHERE b = ${i}), 0)::int`).join(', ')}]`;
}

/** The totals of analytics_hourly, in column order after (hour, flow_id, campaign_id, direction). */
export const HOURLY_COLUMNS = ['calls', 'answered', 'ended', 'success', 'completed', 'transferred', 'voicemail_dropped', 'failed', 'abandoned', 'duration_count', 'duration_sum_ms', 'duration_hist'] as const;

// Two levels: calls group by hour, dimensions and histogram bucket (the bucket computed once per
// call), then the groups of one hour fold into a row with its dense histogram.
const HOURLY_INNER = `count(*) AS calls, count(answered_at) AS answered, count(outcome) AS ended,
  count(*) FILTER (WHERE outcome = 'success') AS success, count(*) FILTER (WHERE outcome = 'completed') AS completed,
  count(*) FILTER (WHERE outcome = 'transferred') AS transferred, count(*) FILTER (WHERE outcome = 'voicemail-dropped') AS voicemail_dropped,
  count(*) FILTER (WHERE outcome = 'failed') AS failed,
  count(*) FILTER (WHERE answered_at IS NOT NULL AND failure_reason = 'caller-hung-up-early') AS abandoned,
  count(${DURATION_MS_SQL}) AS n, sum(${DURATION_MS_SQL}) AS sum_ms, ${DURATION_BUCKET_SQL} AS b`;
const HOURLY_OUTER = `${['calls', 'answered', 'ended', 'success', 'completed', 'transferred', 'voicemail_dropped', 'failed', 'abandoned'].map((c) => `sum(${c})::int AS ${c}`).join(', ')},
  sum(n)::int AS duration_count, COALESCE(sum(sum_ms), 0)::bigint AS duration_sum_ms, ${histogramSql(DURATION_BOUNDS_MS)} AS duration_hist`;

const AMD_INNER = `count(*) AS calls, count(amd_decision_ms) AS n, sum(amd_decision_ms) AS sum_ms, ${AMD_BUCKET_SQL} AS b`;
const AMD_OUTER = `sum(calls)::int AS calls, sum(n)::int AS decision_count, COALESCE(sum(sum_ms), 0)::bigint AS decision_sum_ms, ${histogramSql(AMD_BOUNDS_MS)} AS decision_hist`;

const DIMENSIONS = `flow_id, ${campaignIdSql()} AS campaign_id, direction`;

/**
 * The three aggregations of calls, keyed by `hourSql` (the UTC hour for the rollup; the hour in the
 * request's zone when raw calls stand in for it). `join` narrows calls to the hours wanted, `where`
 * is a condition on calls (TRUE for none). With `dimensions`, rows also group by flow, campaign and
 * direction.
 */
export function aggregateSql(kind: 'hourly' | 'volume' | 'reasons' | 'amd', hourSql: string, join: string, where: string, dimensions: boolean): string {
  const dims = dimensions ? `, ${DIMENSIONS}` : '';
  const outerDims = dimensions ? ', flow_id, campaign_id, direction' : '';
  const groupDims = dimensions ? ', 2, 3, 4' : '';
  const next = dimensions ? 5 : 2;
  switch (kind) {
    case 'hourly':
      return `SELECT hour${outerDims}, ${HOURLY_OUTER} FROM (
        SELECT ${hourSql} AS hour${dims}, ${HOURLY_INNER} FROM calls ${join} WHERE ${where} GROUP BY 1${groupDims}, b) g GROUP BY hour${outerDims}`;
    case 'volume':
      // The few counts the volume reads: no histogram.
      return `SELECT ${hourSql} AS hour${dims}, count(*)::int AS calls, count(answered_at)::int AS answered, count(*) FILTER (WHERE outcome = 'success')::int AS success,
        count(outcome)::int AS ended FROM calls ${join} WHERE ${where} GROUP BY 1${groupDims}`;
    case 'reasons':
      return `SELECT ${hourSql} AS hour${dims}, failure_reason, count(*)::int AS calls FROM calls ${join} WHERE (${where}) AND failure_reason IS NOT NULL GROUP BY 1${groupDims}, ${next}`;
    case 'amd':
      return `SELECT hour${outerDims}, amd_result, ${AMD_OUTER} FROM (
        SELECT ${hourSql} AS hour${dims}, amd_result, ${AMD_INNER} FROM calls ${join} WHERE (${where}) AND amd_result IS NOT NULL GROUP BY 1${groupDims}, ${next}, b) g GROUP BY hour${outerDims}, amd_result`;
  }
}

const TABLES = { hourly: 'analytics_hourly', reasons: 'analytics_hourly_reasons', amd: 'analytics_hourly_amd' } as const;
/** Any constant shared by every instance: one refresh pass at a time across the deployment. */
const REFRESH_LOCK = 770_008;

/** The UTC hour that is still under way (markers use UTC hours): it and any later hour are "open". */
export const OPEN_HOUR_SQL = `date_trunc('hour', now(), 'UTC')`;

/**
 * Recomputes up to `maxHours` dirty hours from the calls and clears their markers, in one
 * transaction. Returns the number of hours refreshed (0 when another instance is refreshing).
 *
 * Markers are deleted first (their snapshot), the hours recomputed after (a later snapshot), so every
 * change whose marker was removed is in the recomputed rows; a marker committed meanwhile survives
 * and the hour is refreshed again on the next pass. With `openHour: false` the hour under way (and
 * any later one) is left dirty, markers and all, for a later pass.
 */
export async function refreshDirtyHours(pool: pg.Pool, maxHours = 200, opts: { openHour?: boolean } = {}): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      const { rows: lock } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [REFRESH_LOCK]);
      if (lock[0]?.ok !== true) {
        await client.query('ROLLBACK');
        return 0;
      }
      const { rows } = await client.query<{ hour: Date }>(
        `DELETE FROM analytics_dirty_hours WHERE hour IN (SELECT DISTINCT hour FROM analytics_dirty_hours WHERE $2::boolean OR hour < ${OPEN_HOUR_SQL} ORDER BY hour LIMIT $1) RETURNING hour`,
        [maxHours, opts.openHour ?? true],
      );
      const hours = [...new Set(rows.map((r) => r.hour.toISOString()))];
      if (hours.length > 0) {
        const join = `JOIN unnest($1::timestamptz[]) AS h(hour) ON created_at >= h.hour AND created_at < h.hour + interval '1 hour'`;
        for (const [kind, table] of Object.entries(TABLES) as Array<[keyof typeof TABLES, string]>) {
          await client.query(`DELETE FROM ${table} WHERE hour = ANY($1::timestamptz[])`, [hours]);
          await client.query(`INSERT INTO ${table} ${aggregateSql(kind, 'h.hour', join, 'TRUE', true)}`, [hours]);
        }
      }
      await client.query('COMMIT');
      return hours.length;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
}

/** Refreshes until no dirty hour is left (tests, the benchmark, a backfill). */
export async function refreshAll(pool: pg.Pool): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await refreshDirtyHours(pool, 500);
    total += n;
    if (n === 0) return total;
  }
}
