import { describe, expect, it } from 'vitest';
import { AMD_CALIBRATION, calibrateConfidence } from '../../dsp/calibration.ts';
import { fitIsotonic, MIN_BLOCK } from '../../bench/fit-calibration.ts';

describe('AMD confidence calibration', () => {
  it('is monotone, flat outside its knots and linear between them', () => {
    let prev = 0;
    for (let raw = 0; raw <= 1.0001; raw += 0.01) {
      const c = calibrateConfidence(raw);
      expect(c).toBeGreaterThanOrEqual(prev);
      expect(c).toBeGreaterThan(0.5);
      expect(c).toBeLessThan(1);
      prev = c;
    }
    expect(calibrateConfidence(0.5, [[0, 0.6], [1, 0.8]])).toBe(0.7);
    expect(calibrateConfidence(-1, [[0, 0.6], [1, 0.8]])).toBe(0.6);
    expect(calibrateConfidence(2, [[0, 0.6], [1, 0.8]])).toBe(0.8);
    expect(AMD_CALIBRATION.length).toBeGreaterThan(1);
  });

  it('fits a non-decreasing, smoothed curve with blocks of at least MIN_BLOCK files', () => {
    // Raw 0.6 right half the time, 0.9 always right: the fit says so, smoothed.
    const points = [
      ...Array.from({ length: 20 }, (_, i) => ({ raw: 0.6, right: i % 2 === 0 })),
      ...Array.from({ length: 20 }, () => ({ raw: 0.9, right: true })),
      ...Array.from({ length: 3 }, () => ({ raw: 0.95, right: false })),
    ];
    const knots = fitIsotonic(points);
    // (10 + 1) / (20 + 2) = 0.5, raised to the floor: a verdict never claims less than 0.51.
    expect(knots[0]).toEqual([0.6, 0.51]);
    for (let i = 1; i < knots.length; i++) expect(knots[i]![1]).toBeGreaterThanOrEqual(knots[i - 1]![1]);
    // The three wrong 0.95s are pooled with the 0.9s (PAV), never their own block of 3.
    expect(knots).toHaveLength(2);
    expect(knots[1]![1]).toBeCloseTo((20 + 1) / (23 + 2), 2);
    expect(MIN_BLOCK).toBeGreaterThanOrEqual(5);
  });
});
