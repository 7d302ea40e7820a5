// Exact percentiles (percentile_cont's definition: linear interpolation between the two nearest
// ranks) without sorting every value of the range. A histogram (from the rollup) says which bucket
// holds each rank; one pass over the range then sorts only the values of those few buckets.
import type { Queryable } from '../store/db.ts';
import { boundsSql } from './rollup.ts';

export interface PercentileRequest {
  /** SQL of the value, over calls. */
  value: string;
  /** SQL condition selecting the calls the percentile is over. */
  filter: string;
  bounds: readonly number[];
  /** Counts per bucket (width_bucket numbering: index 0 is below the first bound). */
  hist: readonly number[];
  /** 0..1 */
  p: number;
}

interface Rank {
  bucket: number;
  offset: number;
}

function locate(hist: readonly number[], rank: number): Rank {
  let before = 0;
  for (let bucket = 0; bucket < hist.length; bucket++) {
    const n = hist[bucket] as number;
    if (rank < before + n) return { bucket, offset: rank - before };
    before += n;
  }
  throw new Error(`rank ${rank} is beyond the histogram's ${before} values`);
}

/**
 * The requested percentiles over the calls `from` selects (SQL after FROM, with `values`), null where
 * there is no value. Equal to percentile_cont over the same calls as long as `hist` counts them.
 */
export async function exactPercentiles(db: Queryable, from: string, values: unknown[], requests: readonly PercentileRequest[]): Promise<Array<number | null>> {
  const items: string[] = [];
  const plans = requests.map((r) => {
    const n = r.hist.reduce((a, b) => a + b, 0);
    if (n === 0) return null;
    const pos = r.p * (n - 1);
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    const cells = [locate(r.hist, lo), locate(r.hist, hi)].map(({ bucket, offset }) => {
      items.push(`(array_agg((${r.value})::float8 ORDER BY ${r.value}) FILTER (WHERE (${r.filter}) AND width_bucket(${r.value}, ${boundsSql(r.bounds)}) = ${bucket}))[${offset + 1}]`);
      return `v${items.length - 1}`;
    });
    return { cells, frac: pos - lo };
  });
  if (items.length === 0) return requests.map(() => null);
  const { rows } = await db.query<Record<string, number | null>>(`SELECT ${items.map((x, i) => `${x} AS v${i}`).join(', ')} FROM ${from}`, values);
  const row = rows[0] ?? {};
  return plans.map((plan) => {
    if (plan === null) return null;
    const [a, b] = plan.cells.map((c) => row[c]);
    if (a === null || a === undefined || b === null || b === undefined) throw new Error('the histogram and the calls disagree: a percentile bucket was short of values');
    return a + (b - a) * plan.frac;
  });
}
