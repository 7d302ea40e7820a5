// Confidence calibration for human/machine verdicts: the state machine's raw score (a fixed value per
// kind of decisive evidence — beep, key — or the classifier's probability of the verdict it gave) mapped through a
// monotone (isotonic) fit of "was the verdict right" on the tune split, so that 0.9 means right about
// nine times in ten there. Refit with `node bench/fit-calibration.ts` and paste its output here.
// Bins are smoothed (Laplace: (right + 1) / (n + 2)) so a small bin never claims certainty.

/** [raw score, calibrated confidence] knots, raw ascending; linear between, flat outside. */
export const AMD_CALIBRATION: readonly (readonly [number, number])[] = [
  // Fitted on 217 tune files (node bench/fit-calibration.ts), classifier weights of dsp/amdWeights.ts.
  [0.5, 0.51],
  [0.581, 0.94],
  [0.703, 0.94],
  [0.814, 0.96],
  [0.881, 0.96],
  [0.9, 0.96],
  [0.913, 0.96],
  [0.933, 0.96],
  [0.95, 0.96],
  [0.96, 0.96],
  [0.97, 0.98],
  [0.985, 0.98],
];

export function calibrateConfidence(raw: number, knots: readonly (readonly [number, number])[] = AMD_CALIBRATION): number {
  const first = knots[0];
  const last = knots[knots.length - 1];
  if (first === undefined || last === undefined) return raw;
  if (raw <= first[0]) return first[1];
  if (raw >= last[0]) return last[1];
  for (let i = 1; i < knots.length; i++) {
    const [x1, y1] = knots[i] as readonly [number, number];
    if (raw <= x1) {
      const [x0, y0] = knots[i - 1] as readonly [number, number];
      const y = x1 > x0 ? y0 + ((y1 - y0) * (raw - x0)) / (x1 - x0) : y1;
      return Math.round(y * 100) / 100;
    }
  }
  return last[1];
}
