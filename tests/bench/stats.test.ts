// The arithmetic the benchmark's pass/fail verdict rests on: percentiles, ratios against the floor,
// and the regression checks (a figure that could not be measured must fail, never pass).
import { describe, expect, it } from 'vitest';
import { evaluateCheck, evaluateChecks, median, percentile, ratio, summarize } from '../../bench/lib/stats.ts';
import { formatTable } from '../../bench/lib/table.ts';
import { lagMs } from '../../bench/lib/section.ts';
import { parseRunArgs } from '../../bench/run.ts';

describe('percentile (nearest rank)', () => {
  it('returns observed values at ⌈p·n⌉', () => {
    const xs = [15, 20, 35, 40, 50];
    expect(percentile(xs, 30)).toBe(20);
    expect(percentile(xs, 40)).toBe(20);
    expect(percentile(xs, 50)).toBe(35);
    expect(percentile(xs, 100)).toBe(50);
    expect(percentile(xs, 0)).toBe(15);
  });

  it('does not depend on input order and does not mutate it', () => {
    const xs = [9, 1, 5, 3, 7];
    expect(percentile(xs, 50)).toBe(5);
    expect(xs).toEqual([9, 1, 5, 3, 7]);
  });

  it('makes p99 of a small sample its maximum (a latency bound must not hide the worst case)', () => {
    const xs = Array.from({ length: 50 }, (_, i) => i + 1);
    expect(percentile(xs, 99)).toBe(50);
    const big = Array.from({ length: 1000 }, (_, i) => i + 1);
    expect(percentile(big, 99)).toBe(990);
  });

  it('is NaN for no samples and refuses a percentile outside 0..100', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('gives count, p50, p99, max and mean', () => {
    expect(summarize([4, 1, 3, 2])).toEqual({ count: 4, p50: 2, p99: 4, max: 4, mean: 2.5 });
  });

  it('is all NaN with count 0 for an empty sample', () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    expect(s.p50).toBeNaN();
    expect(s.max).toBeNaN();
  });
});

describe('median (the media section: the median of its pairs\' ratios)', () => {
  it('is the middle value, or the mean of the two middle ones, whatever the order, without mutating', () => {
    const xs = [1.74, 1.25, 1.42];
    expect(median(xs)).toBe(1.42);
    expect(xs).toEqual([1.74, 1.25, 1.42]);
    expect(median([1.25, 1.42, 1.74, 1.31])).toBeCloseTo((1.31 + 1.42) / 2, 12);
    expect(median([2])).toBe(2);
  });

  it('is NaN for no values (a check on it then fails)', () => {
    expect(median([])).toBeNaN();
  });
});

describe('ratio against the floor', () => {
  it('divides, and is NaN when the floor is missing or not positive', () => {
    expect(ratio(45, 15)).toBe(3);
    expect(ratio(45, 0)).toBeNaN();
    expect(ratio(45, Number.NaN)).toBeNaN();
    expect(ratio(Number.NaN, 15)).toBeNaN();
  });
});

describe('regression checks', () => {
  const check = { name: 'media path ÷ floor', unit: '×', note: '' };

  it('passes or fails by the side of the bound, bound included only for <= and >=', () => {
    expect(evaluateCheck({ ...check, value: 6, op: '<=', bound: 6 }).pass).toBe(true);
    expect(evaluateCheck({ ...check, value: 6.01, op: '<=', bound: 6 }).pass).toBe(false);
    expect(evaluateCheck({ ...check, value: 6, op: '<', bound: 6 }).pass).toBe(false);
    expect(evaluateCheck({ ...check, value: 500, op: '>=', bound: 500 }).pass).toBe(true);
    expect(evaluateCheck({ ...check, value: 500, op: '>', bound: 500 }).pass).toBe(false);
  });

  it('fails a figure that was not measured, whatever the direction', () => {
    for (const op of ['<=', '<', '>=', '>'] as const) {
      expect(evaluateCheck({ ...check, value: Number.NaN, op, bound: 1 }).pass).toBe(false);
      expect(evaluateCheck({ ...check, value: Number.POSITIVE_INFINITY, op, bound: 1 }).pass).toBe(false);
    }
  });

  it('counts passed and failed checks', () => {
    const r = evaluateChecks([
      { ...check, value: 2.1, op: '<=', bound: 6 },
      { ...check, value: 336, op: '<', bound: 100 },
      { ...check, value: Number.NaN, op: '>', bound: 500 },
    ]);
    expect(r.passed).toBe(1);
    expect(r.failed).toBe(2);
    expect(r.results.map((x) => x.pass)).toEqual([true, false, false]);
  });
});

describe('event-loop lag from /v1/metrics', () => {
  it('removes the 5 ms sampling tick the histogram includes, never going below zero', () => {
    expect(lagMs(25)).toBe(20);
    expect(lagMs(5.14)).toBeCloseTo(0.14, 6);
    expect(lagMs(3)).toBe(0);
  });
});

describe('table', () => {
  it('right-aligns numeric columns, prints n/a for NaN and - for missing', () => {
    const text = formatTable(['name', 'value'], [['a', 1.5], ['longer', Number.NaN], ['c', null]]);
    expect(text.split('\n')).toEqual(['name    value', '------  -----', 'a        1.50', 'longer    n/a', 'c           -']);
  });
});

describe('bench/run.ts arguments', () => {
  it('defaults to every section, full size, no JSON', () => {
    const a = parseRunArgs([]);
    expect(a.short).toBe(false);
    expect(a.only).toEqual(['dsp', 'media', 'concurrency', 'agent', 'first-audio', 'amd', 'persistence', 'campaign', 'cluster', 'analytics']);
    expect(a.json).toBeUndefined();
  });

  it('takes --short, --only and --json with or without a file', () => {
    const a = parseRunArgs(['--short', '--only', 'concurrency,media', '--json']);
    expect(a.short).toBe(true);
    expect(a.only).toEqual(['concurrency', 'media']);
    expect(a.json).toMatch(/bench\/results\/latest\.json$/);
    expect(parseRunArgs(['--json', 'out.json', '--short']).json).toBe('out.json');
    expect(parseRunArgs(['--only=amd']).only).toEqual(['amd']);
  });

  it('refuses unknown sections and arguments', () => {
    expect(() => parseRunArgs(['--only', 'concurency'])).toThrow(/unknown section "concurency"/);
    expect(() => parseRunArgs(['--fast'])).toThrow(/unknown argument/);
    expect(() => parseRunArgs(['--only'])).toThrow(/needs a list/);
  });
});
