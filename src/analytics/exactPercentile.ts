// Exact percentiles (percentile_cont's definition: linear interpolation between the two nearest
// ranks) without sorting every value of the range. A histogram (from the rollup) says which bucket
// holds each rank and where in it; an index on (bucket, created_at) then reads only the calls of that
// bucket in the range, and the value is the one at that offset.
import type { Queryable } from '../store/db.ts';
import { AMD_BUCKET_SQL, DURATION_BUCKET_SQL } from './rollup.ts';

export interface PercentileRequest {
  /** SQL of the value over calls (what is sorted). */
  value: string;
  /** SQL turning the value into milliseconds. */
  toMs: (value: string) => string;
  /** SQL of the value's bucket (indexed with created_at). */
  bucket: string;
  /** SQL condition selecting the calls the percentile is over (it includes the index's predicate). */
  filter: string;
  /** Counts per bucket (width_bucket numbering: index 0 is below the first bound). */
  hist: readonly number[];
  /** 0..1 */
  p: number;
}

/** Talk time (answer → end) and the AMD decision time, as percentile requests. */
export const DURATION_VALUE = {
  value: '(ended_at - answered_at)',
  toMs: (x: string) => `(EXTRACT(EPOCH FROM ${x}) * 1000)::float8`,
  bucket: DURATION_BUCKET_SQL,
  filter: 'answered_at IS NOT NULL AND ended_at IS NOT NULL',
};
export const AMD_DECISION_VALUE = { value: 'amd_decision_ms', toMs: (x: string) => `(${x})::float8`, bucket: AMD_BUCKET_SQL };

function locate(hist: readonly number[], rank: number): [number, number] {
  let before = 0;
  for (let bucket = 0; bucket < hist.length; bucket++) {
    const n = hist[bucket] as number;
    if (rank < before + n) return [bucket, rank - before];
    before += n;
  }
  throw new Error(`rank ${rank} is beyond the histogram's ${before} values`);
}

/**
 * The requested percentiles over the calls `where` selects (a condition on calls, with `values`),
 * null where there is no value. Equal to percentile_cont over the same calls as long as `hist` counts
 * them; fails loudly if it does not.
 */
export async function exactPercentiles(db: Queryable, where: string, values: unknown[], requests: readonly PercentileRequest[]): Promise<Array<number | null>> {
  const cache = new Map<string, Promise<number>>();
  const valueAt = (r: PercentileRequest, rank: number): Promise<number> => {
    const [bucket, offset] = locate(r.hist, rank);
    const sql = `SELECT ${r.toMs(r.value)} AS v FROM calls WHERE ${r.bucket} = ${bucket} AND ${r.filter} AND ${where} ORDER BY ${r.value} OFFSET ${offset} LIMIT 1`;
    let v = cache.get(sql);
    if (v === undefined) {
      v = db.query<{ v: number }>(sql, values).then(({ rows }) => {
        const x = rows[0]?.v;
        if (x === undefined) throw new Error('the histogram and the calls disagree: a percentile bucket was short of values');
        return x;
      });
      cache.set(sql, v);
    }
    return v;
  };
  return Promise.all(
    requests.map(async (r) => {
      const n = r.hist.reduce((a, b) => a + b, 0);
      if (n === 0) return null;
      const pos = r.p * (n - 1);
      const lo = Math.floor(pos);
      const [a, b] = await Promise.all([valueAt(r, lo), valueAt(r, Math.ceil(pos))]);
      return a + (b - a) * (pos - lo);
    }),
  );
}
