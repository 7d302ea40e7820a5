// Exact percentiles (percentile_cont's definition: linear interpolation between the two nearest
// ranks) without sorting every value of the range. A histogram (from the rollup) says which bucket
// holds each rank; one pass over the range then sorts only the values of those few buckets.
import type { Queryable } from '../store/db.ts';

export interface PercentileRequest {
  /** SQL of the value over calls, compared against `literal(bound)` (cheap: no per-row conversion). */
  value: string;
  literal: (boundMs: number) => string;
  /** SQL turning one selected value into milliseconds. */
  toMs: (selected: string) => string;
  /** SQL condition selecting the calls the percentile is over. */
  filter: string;
  bounds: readonly number[];
  /** Counts per bucket (width_bucket numbering: index 0 is below the first bound). */
  hist: readonly number[];
  /** 0..1 */
  p: number;
}

/** Talk time (answer → end) and the AMD decision time, as percentile requests. */
export const DURATION_VALUE = {
  value: '(ended_at - answered_at)',
  literal: (ms: number) => `interval '${ms} milliseconds'`,
  toMs: (x: string) => `(EXTRACT(EPOCH FROM ${x}) * 1000)::float8`,
  filter: 'answered_at IS NOT NULL AND ended_at IS NOT NULL',
};
export const AMD_DECISION_VALUE = { value: 'amd_decision_ms', literal: (ms: number) => String(ms), toMs: (x: string) => `(${x})::float8` };

function locate(hist: readonly number[], rank: number): number[] {
  let before = 0;
  for (let bucket = 0; bucket < hist.length; bucket++) {
    const n = hist[bucket] as number;
    if (rank < before + n) return [bucket, rank - before];
    before += n;
  }
  throw new Error(`rank ${rank} is beyond the histogram's ${before} values`);
}

/** The condition "value in bucket" (width_bucket numbering). */
function inBucket(r: PercentileRequest, bucket: number): string {
  const lo = bucket === 0 ? null : r.bounds[bucket - 1];
  const hi = bucket >= r.bounds.length ? null : r.bounds[bucket];
  return [lo === null || lo === undefined ? null : `${r.value} >= ${r.literal(lo)}`, hi === null || hi === undefined ? null : `${r.value} < ${r.literal(hi)}`].filter((x) => x !== null).join(' AND ') || 'TRUE';
}

/**
 * The requested percentiles over the calls `from` selects (SQL after FROM, with `values`), null where
 * there is no value. Equal to percentile_cont over the same calls as long as `hist` counts them.
 * One scan (parallel on PostgreSQL) keeps the few calls in the located buckets; only those are sorted.
 */
export async function exactPercentiles(db: Queryable, from: string, values: unknown[], requests: readonly PercentileRequest[]): Promise<Array<number | null>> {
  const columns: string[] = [];
  const keep: string[] = [];
  const picks: string[] = [];
  const plans = requests.map((r) => {
    const n = r.hist.reduce((a, b) => a + b, 0);
    if (n === 0) return null;
    const pos = r.p * (n - 1);
    const lo = Math.floor(pos);
    const cells = [lo, Math.ceil(pos)].map((rank) => {
      const [bucket, offset] = locate(r.hist, rank) as [number, number];
      const cond = `(${r.filter}) AND ${inBucket(r, bucket)}`;
      const x = `x${columns.length}`;
      columns.push(`CASE WHEN ${cond} THEN ${r.value} END AS ${x}`);
      keep.push(`(${cond})`);
      picks.push(`${r.toMs(`(array_agg(${x} ORDER BY ${x}) FILTER (WHERE ${x} IS NOT NULL))[${offset + 1}]`)} AS p${picks.length}`);
      return `p${picks.length - 1}`;
    });
    return { cells, frac: pos - lo };
  });
  if (picks.length === 0) return requests.map(() => null);
  const { rows } = await db.query<Record<string, number | null>>(
    `SELECT ${picks.join(', ')} FROM (SELECT ${columns.join(', ')} FROM ${from} AND (${keep.join(' OR ')})) s`,
    values,
  );
  const row = rows[0] ?? {};
  return plans.map((plan) => {
    if (plan === null) return null;
    const [a, b] = plan.cells.map((c) => row[c]);
    if (a === null || a === undefined || b === null || b === undefined) throw new Error('the histogram and the calls disagree: a percentile bucket was short of values');
    return a + (b - a) * plan.frac;
  });
}
