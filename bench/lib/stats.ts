// Summary statistics and the regression checks of the benchmark suite. Percentiles use the
// nearest-rank method (the value at rank ⌈p/100 · n⌉ of the sorted sample), which always returns an
// observed value; with few samples p99 is simply the maximum, which is what a latency bound should use.

export interface Summary {
  count: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an unsorted sample; NaN when it is empty. */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100 (got ${p})`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { count: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, mean: Number.NaN };
  let sum = 0;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v > max) max = v;
  }
  return { count: values.length, p50: percentile(values, 50), p99: percentile(values, 99), max, mean: sum / values.length };
}

/** a / b, or NaN when either side is missing or b is not positive. */
export function ratio(a: number, b: number): number {
  return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : Number.NaN;
}

/** The middle value (the mean of the two middle ones for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * One regression check of `bench:ci`. `op` says which side of `bound` passes. A check whose value
 * could not be measured (NaN, e.g. a section that failed to run) fails: a benchmark that silently
 * stops measuring must not turn green.
 */
export interface Check {
  name: string;
  value: number;
  op: '<=' | '<' | '>=' | '>';
  bound: number;
  unit: string;
  /** Why the bound is where it is (target, measured typical value). */
  note: string;
}

export interface CheckResult extends Check {
  pass: boolean;
}

export function evaluateCheck(check: Check): CheckResult {
  const v = check.value;
  let pass = false;
  if (Number.isFinite(v)) {
    switch (check.op) {
      case '<=':
        pass = v <= check.bound;
        break;
      case '<':
        pass = v < check.bound;
        break;
      case '>=':
        pass = v >= check.bound;
        break;
      case '>':
        pass = v > check.bound;
        break;
    }
  }
  return { ...check, pass };
}

export function evaluateChecks(checks: readonly Check[]): { results: CheckResult[]; passed: number; failed: number } {
  const results = checks.map(evaluateCheck);
  const passed = results.filter((r) => r.pass).length;
  return { results, passed, failed: results.length - passed };
}
