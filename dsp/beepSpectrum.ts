// The beep detector's spectral side: the FFT geometry (256-point Hann window every 10 ms at 8 kHz) and
// pure measurements on one hop's power spectrum — a peak's lobe energy, its interpolated frequency, a
// wide lobe for two close tones, and the harmonic-partner test that refuses voices. The tone tracking
// (steps, bridging, ends) is beep.ts; nothing here keeps state.
import { SAMPLE_RATE_HZ } from './frame.ts';

export const WINDOW = 256;
export const HOP = 80;
export const HALF = WINDOW / 2;
export const BIN_HZ = SAMPLE_RATE_HZ / WINDOW;
/** Hann main lobe: ±2 bins hold > 99% of a windowed tone's energy. */
export const LOBE = 2;
/**
 * Band over which purity is measured: from 218 Hz (bin 7, above DC, mains hum and its first
 * harmonics, and below the telephone band's 300 Hz) to Nyquist minus a bin.
 */
export const BAND_LO = 7;
/** Other peaks are looked for from 281 Hz up: the 5th and lower harmonics of mains hum sit below. */
export const SEARCH_LO = 9;
export const BAND_HI = HALF - 1;

/** A tone with a harmonic partner in this share of its tonal hops (1/n) is a voice. */
export const HARMONIC_SHARE_INV = 3;
/** A partner counts when within this of the tone (mu-law's own distortion is odd and lower)… */
const HARMONIC_REL = 10 ** (-40 / 10);
/** …and this far above the floor midway between it and the tone (dB 8 → ×6.3). */
const HARMONIC_OVER_FLOOR = 10 ** (8 / 10);

/**
 * Whether the tone at `f` (lobe energy `e`) has a partner at 2f or f/2 standing out of the local
 * floor: the next harmonic of a voice whose strongest harmonic is at f, or the one below it.
 */
export function harmonicPartner(p: Float64Array, f: number, e: number): boolean {
  return (
    (!distortionProduct(f, 2 * f) && partnerAt(p, 2 * f, 1.5 * f, 2.5 * f, e)) ||
    (!distortionProduct(f, f / 2) && partnerAt(p, f / 2, f / 4, 0.75 * f, e))
  );
}

/**
 * Whether `fh` lies where mu-law (or any symmetric clipping) puts a pure tone's own products: its odd
 * harmonics 3f and 5f, folded about the Nyquist frequency. A 1778 Hz tone's 5th harmonic folds onto
 * f/2, a 2286 Hz tone's 3rd onto f/2, a 1600 Hz tone's 3rd onto 2f: there a partner proves nothing.
 */
export function distortionProduct(f: number, fh: number): boolean {
  for (let m = 3; m <= 5; m += 2) {
    let a = (m * f) % SAMPLE_RATE_HZ;
    if (a > SAMPLE_RATE_HZ / 2) a = SAMPLE_RATE_HZ - a;
    if (Math.abs(a - fh) <= 2 * BIN_HZ) return true;
  }
  return false;
}

function partnerAt(p: Float64Array, fh: number, fa: number, fb: number, e: number): boolean {
  const k = Math.round(fh / BIN_HZ);
  const ka = Math.round(fa / BIN_HZ);
  const kb = Math.round(fb / BIN_HZ);
  if (k - 1 < BAND_LO || k + 1 > BAND_HI || kb + LOBE > HALF || kb - ka < 4) return false;
  // The partner may sit a bin off (pitch moves within the window): the best of three lobes.
  const eh = Math.max(lobeEnergy(p, k - 1), lobeEnergy(p, k), lobeEnergy(p, k + 1));
  if (eh < e * HARMONIC_REL) return false;
  // Midway bins only (not lobes): for a low tone, a lobe at 1.5f would reach into the tone's own lobe.
  const a0 = Math.max(ka, BAND_LO);
  const floor = (((p[a0] as number) + (p[a0 + 1] as number) + (p[kb - 1] as number) + (p[kb] as number)) / 4) * (2 * LOBE + 1);
  return eh > floor * HARMONIC_OVER_FLOOR;
}

/** Half-width of the wide lobe that holds two close tones (bins): tones up to ~4 bins (125 Hz) apart. */
export const WIDE = 2 * LOBE + 1;

/**
 * A wide lobe can also be two neighbouring harmonics of a voice, so its residue must be 5 dB cleaner
 * than a single tone's.
 */
export const WIDE_STRICTER = 10 ** (-5 / 10);

export function wideLobeEnergy(p: Float64Array, k: number): number {
  let e = 0;
  for (let j = Math.max(0, k - WIDE); j <= Math.min(HALF, k + WIDE); j++) e += p[j] as number;
  return e;
}

export function wideCentroidHz(p: Float64Array, k: number): number {
  let e = 0;
  let m = 0;
  for (let j = Math.max(0, k - WIDE); j <= Math.min(HALF, k + WIDE); j++) {
    e += p[j] as number;
    m += j * (p[j] as number);
  }
  return e > 0 ? (m / e) * BIN_HZ : k * BIN_HZ;
}

/**
 * A lone tone's Hann main lobe has a power-weighted spread (variance over the ±2 bins around its
 * peak bin) of 0.33 bin², wherever it sits between bins; two tones inside one lobe (20–60 Hz apart)
 * widen it to 0.4–1.2 bin². Over this, the lobe is a pair: its centroid, not its peak, is the frequency.
 */
export const BROAD_LOBE_SPREAD = 0.45;

export function lobeSpreadBins2(p: Float64Array, k: number): number {
  let e = 0;
  let m = 0;
  const lo = Math.max(0, k - LOBE);
  const hi = Math.min(HALF, k + LOBE);
  for (let j = lo; j <= hi; j++) {
    e += p[j] as number;
    m += j * (p[j] as number);
  }
  if (!(e > 0)) return 0;
  const c = m / e;
  let v = 0;
  for (let j = lo; j <= hi; j++) v += (p[j] as number) * (j - c) * (j - c);
  return v / e;
}

export function lobeEnergy(p: Float64Array, k: number): number {
  let e = 0;
  for (let j = Math.max(0, k - LOBE); j <= Math.min(HALF, k + LOBE); j++) e += p[j] as number;
  return e;
}

/**
 * Peak frequency by parabolic interpolation of log power over three bins (J. O. Smith, "Spectral Audio
 * Signal Processing", Quadratic Interpolation of Spectral Peaks): < 0.1 bin bias with a Hann window.
 */
export function interpolatedHz(p: Float64Array, k: number): number {
  if (k <= 0 || k >= HALF) return k * BIN_HZ;
  const a = Math.log((p[k - 1] as number) + 1e-9);
  const b = Math.log((p[k] as number) + 1e-9);
  const c = Math.log((p[k + 1] as number) + 1e-9);
  const den = a - 2 * b + c;
  const d = den < 0 ? (0.5 * (a - c)) / den : 0;
  return (k + Math.max(-0.5, Math.min(0.5, d))) * BIN_HZ;
}
