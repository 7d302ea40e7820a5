// GET /v1/analytics/summary and /volume: aggregates computed in SQL (the same statements on PostgreSQL
// and PGlite), one pass over the range's rows each, so a month of a million calls stays well under a
// second on PostgreSQL (bench/analytics.ts measures it).
import type { Queryable } from '../store/db.ts';
import { buildWhere, type CallFilter } from './filters.ts';

/** Answered and ended: the talk time, in milliseconds. */
const DURATION_SQL = `(EXTRACT(EPOCH FROM (ended_at - answered_at)) * 1000)`;

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
  avg_ms: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
}

export async function summary(db: Queryable, filter: CallFilter): Promise<Summary> {
  const w = buildWhere(filter, { requireRange: true });
  const totals = db.query<TotalsRow>(
    `SELECT count(*)::int AS calls,
            count(answered_at)::int AS answered,
            count(outcome)::int AS ended,
            count(*) FILTER (WHERE outcome = 'success')::int AS success,
            count(*) FILTER (WHERE outcome = 'completed')::int AS completed,
            count(*) FILTER (WHERE outcome = 'transferred')::int AS transferred,
            count(*) FILTER (WHERE outcome = 'voicemail-dropped')::int AS voicemail_dropped,
            count(*) FILTER (WHERE outcome = 'failed')::int AS failed,
            count(*) FILTER (WHERE answered_at IS NOT NULL AND failure_reason = 'caller-hung-up-early')::int AS abandoned,
            avg(${DURATION_SQL}) AS avg_ms,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ${DURATION_SQL}) AS p50_ms,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY ${DURATION_SQL}) AS p95_ms
       FROM calls ${w.sql}`,
    w.values,
  );
  const amd = db.query<{ amd_result: string; count: number; avg_ms: number | null; p50_ms: number | null }>(
    `SELECT amd_result, count(*)::int AS count, avg(amd_decision_ms) AS avg_ms,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY amd_decision_ms) AS p50_ms
       FROM calls ${w.sql} ${w.sql === '' ? 'WHERE' : 'AND'} amd_result IS NOT NULL GROUP BY amd_result`,
    w.values,
  );
  const reasons = db.query<{ reason: string; count: number }>(
    `SELECT failure_reason AS reason, count(*)::int AS count
       FROM calls ${w.sql} ${w.sql === '' ? 'WHERE' : 'AND'} failure_reason IS NOT NULL
      GROUP BY failure_reason ORDER BY count DESC, failure_reason`,
    w.values,
  );
  const [t, a, r] = await Promise.all([totals, amd, reasons]);
  const row = t.rows[0] as TotalsRow;
  const amdOut: Summary['amd'] = {};
  for (const k of ['human', 'machine', 'fax', 'unknown']) amdOut[k] = { count: 0, avgDecisionMs: null, p50DecisionMs: null };
  for (const x of a.rows) amdOut[x.amd_result] = { count: x.count, avgDecisionMs: round1(x.avg_ms), p50DecisionMs: round1(x.p50_ms) };
  return {
    range: { since: filter.since ?? null, until: filter.until ?? null, tz: w.tz },
    calls: row.calls,
    answered: row.answered,
    answerRate: rate(row.answered, row.calls),
    ended: row.ended,
    outcomes: { success: row.success, completed: row.completed, transferred: row.transferred, 'voicemail-dropped': row.voicemail_dropped, failed: row.failed },
    successRate: rate(row.success, row.ended),
    durationMs: { avg: round1(row.avg_ms), p50: round1(row.p50_ms), p95: round1(row.p95_ms) },
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

export async function volume(db: Queryable, filter: CallFilter, bucket: 'hour' | 'day'): Promise<Volume> {
  const w = buildWhere(filter, { requireRange: true });
  const tzParam = `$${w.next}`;
  // date_trunc(unit, timestamptz, zone) truncates in the zone but keeps instants: the two 01:00 hours
  // of a DST fall-back stay two buckets, and a DST day is 23 or 25 hours long.
  const buckets = db.query<{ start: Date; local: string; offset_min: number; calls: number; answered: number; success: number; ended: number }>(
    `SELECT b AS start, to_char(b AT TIME ZONE ${tzParam}, 'YYYY-MM-DD"T"HH24:MI') AS local,
            (EXTRACT(EPOCH FROM (b AT TIME ZONE ${tzParam}) - (b AT TIME ZONE 'UTC')) / 60)::int AS offset_min,
            calls, answered, success, ended
       FROM (SELECT date_trunc('${bucket}', created_at, ${tzParam}) AS b, count(*)::int AS calls, count(answered_at)::int AS answered,
                    count(*) FILTER (WHERE outcome = 'success')::int AS success, count(outcome)::int AS ended
               FROM calls ${w.sql} GROUP BY 1) g
      ORDER BY b`,
    [...w.values, w.tz],
  );
  const hours = db.query<{ hour: number; calls: number; answered: number; success: number; ended: number }>(
    `SELECT EXTRACT(HOUR FROM created_at AT TIME ZONE ${tzParam})::int AS hour, count(*)::int AS calls, count(answered_at)::int AS answered,
            count(*) FILTER (WHERE outcome = 'success')::int AS success, count(outcome)::int AS ended
       FROM calls ${w.sql} GROUP BY 1`,
    [...w.values, w.tz],
  );
  const [b, h] = await Promise.all([buckets, hours]);
  const byHour = new Map(h.rows.map((x) => [x.hour, x]));
  return {
    bucket,
    tz: w.tz,
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
