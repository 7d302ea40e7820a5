// Goertzel single-bin DFT (G. Goertzel, "An algorithm for the evaluation of finite trigonometric
// series", Amer. Math. Monthly 65, 1958): one multiply-add per sample per frequency, so a small bank
// of fixed frequencies (DTMF, fax tones) costs far less than an FFT of the same block.
// Pure functions over caller-owned buffers: nothing here allocates per call.
import { SAMPLE_RATE_HZ } from './frame.ts';

/** Precomputed constants for one probe frequency. */
export interface GoertzelProbe {
  readonly frequencyHz: number;
  /** 2·cos(ω), the recursion coefficient. */
  readonly coeff: number;
  readonly cosW: number;
  readonly sinW: number;
}

export function goertzelProbe(frequencyHz: number, sampleRateHz = SAMPLE_RATE_HZ): GoertzelProbe {
  if (!(frequencyHz > 0 && frequencyHz < sampleRateHz / 2)) {
    throw new RangeError(`goertzel frequency must be in (0, ${sampleRateHz / 2}) Hz, got ${frequencyHz}`);
  }
  const w = (2 * Math.PI * frequencyHz) / sampleRateHz;
  return { frequencyHz, coeff: 2 * Math.cos(w), cosW: Math.cos(w), sinW: Math.sin(w) };
}

/**
 * |X(f)|² of `n` samples of `x` starting at `start`. For a sinusoid of amplitude A exactly on f,
 * the result is (n·A/2)²; `normalizedPower` turns it into the share of the block's energy.
 */
export function goertzelPower(x: ArrayLike<number>, start: number, n: number, probe: GoertzelProbe): number {
  const c = probe.coeff;
  let s1 = 0;
  let s2 = 0;
  for (let i = start, end = start + n; i < end; i++) {
    const s0 = (x[i] as number) + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - c * s1 * s2;
}

/**
 * Complex Goertzel output y = s[n-1] − e^{−iω}·s[n-2], written to out[0] (re) and out[1] (im).
 * y equals the DFT at f times the constant e^{iω(n-1)}, so the phase difference between two blocks of
 * equal length is the DFT's phase difference: that is what the DTMF frequency check measures.
 */
export function goertzelComplex(
  x: ArrayLike<number>,
  start: number,
  n: number,
  probe: GoertzelProbe,
  out: Float64Array,
): void {
  const c = probe.coeff;
  let s1 = 0;
  let s2 = 0;
  for (let i = start, end = start + n; i < end; i++) {
    const s0 = (x[i] as number) + c * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  out[0] = s1 - probe.cosW * s2;
  out[1] = probe.sinW * s2;
}

/** Energy Σx² of a block. */
export function blockEnergy(x: ArrayLike<number>, start: number, n: number): number {
  let e = 0;
  for (let i = start, end = start + n; i < end; i++) {
    const v = x[i] as number;
    e += v * v;
  }
  return e;
}

/**
 * Share of a block's energy that a Goertzel power represents: 1 for a pure on-bin tone, the tone's
 * energy share for a mixture. Derived from Parseval: a tone of amplitude A has block energy n·A²/2.
 */
export function normalizedPower(power: number, energy: number, n: number): number {
  return energy > 0 ? power / ((n * energy) / 2) : 0;
}
