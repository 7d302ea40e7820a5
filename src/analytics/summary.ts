// GET /v1/analytics/summary and /volume: aggregates computed in SQL (the same statements on PostgreSQL
// and PGlite) over the hourly rollup for whole clean hours and the raw calls for the rest
// (rollupSource.ts), so a month of a million calls reads a few thousand rollup rows; percentiles stay
// exact (exactPercentile.ts). bench/analytics.ts measures it.
import type { Queryable } from '../store/db.ts';
import { AMD_DECISION_VALUE, DURATION_VALUE, exactPercentiles } from './exactPercentile.ts';
import type { CallFilter } from './filters.ts';
import { AMD_BOUNDS_MS, DURATION_BOUNDS_MS } from './rollup.ts';
import { RollupSource, type SourceOptions } from './rollupSource.ts';

const rate = (part: number, whole: number): number | null => (whole === 0 ? null : Math.round((part / whole) * 10000) / 10000);
const round1 = (v: unknown): number | null => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);

export interface Summary {
  range: { since: string | null; until: string | null; tz: string };
  calls: number;
  answered: number;
  answerRate: number | null;
  /** Calls with an outcome recorded (ended). */
  ended: number;
  outcomes: Record<string, number>;
  /** success / ended. */
  successRate: number | null;
  durationMs: { avg: number | null; p50: number | null; p95: number | null };
  amd: Record<string, { count: number; avgDecisionMs: number | null; p50DecisionMs: number | null }>;
  transferRate: number | null;
  /** Answered calls the caller left before the flow finished (failure reason caller-hung-up-early) / answered. */
  abandonedRate: number | null;
  failureReasons: Array<{ reason: string; count: number }>;
}

const sumHist = (column: string, bounds: readonly number[]): string =>
  `ARRAY[${Array.from({ length: bounds.length + 1 }, (_, i) => `COALESCE(sum(${column}[${i + 1}]), 0)::int`).join(', ')}]`;

interface TotalsRow {
  calls: number;
  answered: number;
  ended: number;
  success: number;
  completed: number;
  transferred: number;
  voicemail_dropped: number;
  failed: number;
  abandoned: number;
  duration_count: number;
  duration_sum_ms: number;
  duration_hist: number[];
}

interface AmdRow {
  amd_result: string;
  calls: number;
  decision_count: number;
  decision_sum_ms: number;
  decision_hist: number[];
}

export async function summary(db: Queryable, filter: CallFilter, opts: SourceOptions = {}): Promise<Summary> {
  const src = await RollupSource.plan(db, filter, opts);
  const hourly = src.sql('hourly');
  const totals = db.query<TotalsRow>(
    `SELECT COALESCE(sum(calls), 0)::int AS calls, COALESCE(sum(answered), 0)::int AS answered, COALESCE(sum(ended), 0)::int AS ended,
            COALESCE(sum(success), 0)::int AS success, COALESCE(sum(completed), 0)::int AS completed, COALESCE(sum(transferred), 0)::int AS transferred,
            COALESCE(sum(voicemail_dropped), 0)::int AS voicemail_dropped, COALESCE(sum(failed), 0)::int AS failed, COALESCE(sum(abandoned), 0)::int AS abandoned,
            COALESCE(sum(duration_count), 0)::int AS duration_count, COALESCE(sum(duration_sum_ms), 0)::float8 AS duration_sum_ms,
            ${sumHist('duration_hist', DURATION_BOUNDS_MS)} AS duration_hist
       FROM (${hourly.text}) s`,
    hourly.values,
  );
  const amdSrc = src.sql('amd');
  const amd = db.query<AmdRow>(
    `SELECT amd_result, sum(calls)::int AS calls, sum(decision_count)::int AS decision_count, sum(decision_sum_ms)::float8 AS decision_sum_ms,
            ${sumHist('decision_hist', AMD_BOUNDS_MS)} AS decision_hist
       FROM (${amdSrc.text}) s GROUP BY amd_result`,
    amdSrc.values,
  );
  const reasonSrc = src.sql('reasons');
  const reasons = db.query<{ reason: string; count: number }>(
    `SELECT failure_reason AS reason, sum(calls)::int AS count FROM (${reasonSrc.text}) s GROUP BY failure_reason ORDER BY count DESC, failure_reason`,
    reasonSrc.values,
  );
  const [t, a, r] = await Promise.all([totals, amd, reasons]);
  const row = t.rows[0] as TotalsRow;
  const amdRows = a.rows.filter((x) => x.decision_count > 0);
  // The rollup's histograms locate each percentile; only the calls of its bucket are read.
  const [p50, p95, ...amdP50] = await exactPercentiles(db, src.where.conditions, src.where.values, [
    { ...DURATION_VALUE, hist: row.duration_hist, p: 0.5 },
    { ...DURATION_VALUE, hist: row.duration_hist, p: 0.95 },
    // amd_result is one of four fixed words (a CHECK constraint), safe to inline.
    ...amdRows.map((x) => ({ ...AMD_DECISION_VALUE, filter: `amd_decision_ms IS NOT NULL AND amd_result = '${x.amd_result.replaceAll("'", "''")}'`, hist: x.decision_hist, p: 0.5 })),
  ]);
  const amdOut: Summary['amd'] = {};
  for (const k of ['human', 'machine', 'fax', 'unknown']) amdOut[k] = { count: 0, avgDecisionMs: null, p50DecisionMs: null };
  for (const x of a.rows) {
    const i = amdRows.indexOf(x);
    amdOut[x.amd_result] = { count: x.calls, avgDecisionMs: x.decision_count === 0 ? null : round1(x.decision_sum_ms / x.decision_count), p50DecisionMs: i < 0 ? null : round1(amdP50[i]) };
  }
  return {
    range: { since: filter.since ?? null, until: filter.until ?? null, tz: src.where.tz },
    calls: row.calls,
    answered: row.answered,
    answerRate: rate(row.answered, row.calls),
    ended: row.ended,
    outcomes: { success: row.success, completed: row.completed, transferred: row.transferred, 'voicemail-dropped': row.voicemail_dropped, failed: row.failed },
    successRate: rate(row.success, row.ended),
    durationMs: { avg: row.duration_count === 0 ? null : round1(row.duration_sum_ms / row.duration_count), p50: round1(p50), p95: round1(p95) },
    amd: amdOut,
    transferRate: rate(row.transferred, row.answered),
    abandonedRate: rate(row.abandoned, row.answered),
    failureReasons: r.rows.map((x) => ({ reason: x.reason, count: x.count })),
  };
}

export interface VolumeBucket {
  /** Bucket start as a UTC instant. */
  start: string;
  /** Bucket start as wall-clock time in tz (YYYY-MM-DDTHH:mm). */
  startLocal: string;
  /** Offset of tz from UTC at the bucket start, in minutes. */
  utcOffsetMinutes: number;
  calls: number;
  answered: number;
  success: number;
  successRate: number | null;
}

export interface Volume {
  bucket: 'hour' | 'day';
  tz: string;
  buckets: VolumeBucket[];
  /** 24 entries, hour 0–23 of tz: when people answer. */
  byHourOfDay: Array<{ hour: number; calls: number; answered: number; answerRate: number | null; success: number; successRate: number | null }>;
}

export async function volume(db: Queryable, filter: CallFilter, bucket: 'hour' | 'day', opts: SourceOptions = {}): Promise<Volume> {
  const src = await RollupSource.plan(db, filter, { ...opts, localHours: true });
  const hourly = src.sql('volume');
  const tzParam = `$${hourly.values.length + 1}`;
  const values = [...hourly.values, src.where.tz];
  // date_trunc(unit, timestamptz, zone) truncates in the zone but keeps instants: the two 01:00 hours
  // of a DST fall-back stay two buckets, and a DST day is 23 or 25 hours long. Each source row is one
  // hour of the zone (rollupSource.ts), so it falls in exactly one bucket.
  const buckets = db.query<{ start: Date; local: string; offset_min: number; calls: number; answered: number; success: number; ended: number }>(
    `SELECT b AS start, to_char(b AT TIME ZONE ${tzParam}, 'YYYY-MM-DD"T"HH24:MI') AS local,
            (EXTRACT(EPOCH FROM (b AT TIME ZONE ${tzParam}) - (b AT TIME ZONE 'UTC')) / 60)::int AS offset_min,
            calls, answered, success, ended
       FROM (SELECT date_trunc('${bucket}', hour, ${tzParam}) AS b, sum(calls)::int AS calls, sum(answered)::int AS answered,
                    sum(success)::int AS success, sum(ended)::int AS ended
               FROM (${hourly.text}) s GROUP BY 1) g
      WHERE calls > 0
      ORDER BY b`,
    values,
  );
  const hours = db.query<{ hour: number; calls: number; answered: number; success: number; ended: number }>(
    `SELECT EXTRACT(HOUR FROM hour AT TIME ZONE ${tzParam})::int AS hour, sum(calls)::int AS calls, sum(answered)::int AS answered,
            sum(success)::int AS success, sum(ended)::int AS ended
       FROM (${hourly.text}) s GROUP BY 1`,
    values,
  );
  const [b, h] = await Promise.all([buckets, hours]);
  const byHour = new Map(h.rows.map((x) => [x.hour, x]));
  return {
    bucket,
    tz: src.where.tz,
    buckets: b.rows.map((x) => ({
      start: x.start.toISOString(),
      startLocal: x.local,
      utcOffsetMinutes: x.offset_min,
      calls: x.calls,
      answered: x.answered,
      success: x.success,
      successRate: rate(x.success, x.ended),
    })),
    byHourOfDay: Array.from({ length: 24 }, (_, hour) => {
      const x = byHour.get(hour);
      return x === undefined
        ? { hour, calls: 0, answered: 0, answerRate: null, success: 0, successRate: null }
        : { hour, calls: x.calls, answered: x.answered, answerRate: rate(x.answered, x.calls), success: x.success, successRate: rate(x.success, x.ended) };
    }),
  };
}
