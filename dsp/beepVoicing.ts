// Physics that tells a held voice from a beep, measured once per beep candidate (never per frame).
// A beep is one (or, dual, two) generated sinusoid(s): its frequency stays on a straight line (a fixed
// tone, or one drifting by at most ±10 Hz), its level is flat, and its spectrum holds nothing at the
// other multiples of a common fundamental. A voiced vowel is a harmonic series: its strongest harmonic
// (the one that may pass for a pure tone) has neighbours at f ± f0, its pitch wanders around any line
// (jitter, vibrato, micro-prosody: > 0.3% at the scale of 10 ms hops) and its level swells and fades.
//
// `StepRecord` keeps, for the current step of a candidate, each tonal hop's frequency and tone level and
// the power spectrum summed over its single-tone hops (summing averages the noise down, so a harmonic a
// few dB over a noisy floor shows). All buffers are allocated once per detector.
import { BAND_HI, BAND_LO, BIN_HZ, HALF, LOBE, distortionProduct, interpolatedHz, lobeEnergy } from './beepSpectrum.ts';

/** Longest step recorded, in hops (1.5 s beep + margin); longer steps are too long to be beeps anyway. */
export const MAX_STEP_HOPS = 160;

/** Hops at a step's start whose analysis window still reaches into the sound before it. */
const SKIP_HOPS = 2;

export class StepRecord {
  readonly hz = new Float64Array(MAX_STEP_HOPS);
  readonly db = new Float64Array(MAX_STEP_HOPS);
  /** Power spectrum summed over the step's single-tone hops. */
  readonly spectrum = new Float64Array(HALF + 1);
  /** Hops recorded (frequency and level). */
  n = 0;
  /** Hops summed into `spectrum`. */
  summed = 0;
  /** Hops seen as one wide lobe (two close tones): their frequency is a centroid, not a pitch. */
  wide = 0;
  /**
   * Power spectrum summed over the step's wide-lobe hops (two components 60–310 Hz apart): a dual beep,
   * or two neighbouring harmonics of a low voice with the others a dozen dB down (widePairVoiced).
   */
  readonly wideSpectrum = new Float64Array(HALF + 1);
  /** Hops summed into `wideSpectrum`. */
  wideSummed = 0;

  clear(): void {
    this.n = 0;
    this.wide = 0;
    if (this.summed > 0) this.spectrum.fill(0);
    this.summed = 0;
    if (this.wideSummed > 0) this.wideSpectrum.fill(0);
    this.wideSummed = 0;
  }

  /**
   * One tonal hop: its frequency, its level (dB) and its power spectrum, summed (into `wideSpectrum`
   * when `wide`, a lobe holding two close components) unless the hop's window still reaches into what
   * came before the step (its first two hops).
   */
  push(hz: number, toneDb: number, power: Float64Array, wide: boolean): void {
    if (wide) this.wide++;
    if (this.n < MAX_STEP_HOPS) {
      this.hz[this.n] = hz;
      this.db[this.n] = toneDb;
      this.n++;
    }
    if (this.n <= SKIP_HOPS) return;
    const s = wide ? this.wideSpectrum : this.spectrum;
    for (let k = 0; k <= HALF; k++) s[k] = (s[k] as number) + (power[k] as number);
    if (wide) this.wideSummed++;
    else this.summed++;
  }
}

/** Least-squares straight line through `x[from..to)` against the index: its centre and slope. */
interface Line {
  meanT: number;
  meanX: number;
  slope: number;
}

function fitLine(x: Float64Array, from: number, to: number): Line {
  const n = to - from;
  let st = 0;
  let sx = 0;
  for (let i = from; i < to; i++) {
    st += i;
    sx += x[i] as number;
  }
  const meanT = st / n;
  const meanX = sx / n;
  let stt = 0;
  let stx = 0;
  for (let i = from; i < to; i++) {
    stt += (i - meanT) * (i - meanT);
    stx += (i - meanT) * ((x[i] as number) - meanX);
  }
  return { meanT, meanX, slope: stt > 0 ? stx / stt : 0 };
}

/**
 * RMS departure (in the series' unit) of `x[from..to)` from its least-squares straight line: what a
 * fixed or linearly drifting beep lacks and a voice's pitch or level has.
 */
export function residualRms(x: Float64Array, from: number, to: number): number {
  const n = to - from;
  if (n < 3) return 0;
  const { meanT, meanX, slope } = fitLine(x, from, to);
  let r = 0;
  for (let i = from; i < to; i++) {
    const d = (x[i] as number) - meanX - slope * (i - meanT);
    r += d * d;
  }
  return Math.sqrt(r / n);
}

/** Total change of the straight line fitted to `x[from..to)`, end minus start (same unit as x). */
export function lineChange(x: Float64Array, from: number, to: number): number {
  const n = to - from;
  if (n < 2) return 0;
  return fitLine(x, from, to).slope * (n - 1);
}

/** A partner harmonic counts when this far above the floor around it (summed spectrum: dB 8 → ×6.3). */
const COMB_OVER_FLOOR = 10 ** (8 / 10);
/** …and within this of the tone: mu-law's own products and a beep's ramps sit lower. */
const COMB_REL = 10 ** (-35 / 10);
/**
 * Closest a partner may sit to the tone (bins, plus half the tone's spread over the step): 5.5 bins
 * puts its ±2-bin lobe 3.5 bins off the tone's centre, where the Hann window's leakage is about −40 dB.
 * So fundamentals from ~170 Hz up are tested; lower voices put their neighbours within the tone's
 * own skirt, where the purity and second-peak tests refuse them.
 */
const COMB_MIN_BINS = 5.5;
/** Largest harmonic number tried for the tone (f0 = f/n). */
const COMB_MAX_N = 8;
/** Mains hum's strong odd harmonics reach about here (7 × 60 Hz): a lower partner there proves nothing. */
const HUM_TOP_HZ = 450;

/**
 * Whether the summed spectrum shows a harmonic series through the tone at `f` (lobe energy `e`), whose
 * frequency spread over the step by `spreadHz`: for some n (the tone being the n-th harmonic of
 * f0 = f/n), its upper neighbour f + f0 stands out of the floor, and so does its lower neighbour f − f0
 * unless that one is out of the band or where mains hum has lines of its own. The two components of a
 * dual beep never reach this test (dual hops are not summed), and a single beep has no partner: its
 * level is alone in its neighbourhood, whatever the noise (white, pink, hum) and through mu-law (whose
 * products are odd harmonics, 3f and 5f, never the neighbours f ± f/n).
 */
export function harmonicComb(p: Float64Array, f: number, e: number, spreadHz: number, close: boolean): boolean {
  const minF0 = COMB_MIN_BINS * BIN_HZ + spreadHz / 2;
  for (let n = 1; n <= COMB_MAX_N; n++) {
    const f0 = f / n;
    if (close && f0 >= CLOSE_F0_MIN_HZ && f0 <= CLOSE_F0_MAX_HZ && closePartner(p, f, f0)) return true;
    if (f0 < minF0) continue;
    if (distortionProduct(f, f + f0) || partnerStrength(p, f + f0, f0, e) !== 1) continue;
    if (n === 1) return true;
    const lowHz = f - f0;
    if (lowHz < HUM_TOP_HZ || distortionProduct(f, lowHz) || partnerStrength(p, lowHz, f0, e) !== 0) return true;
  }
  return false;
}

/** Lowest fundamental the close-partner test tries (Hz): a low male voice. */
const CLOSE_F0_MIN_HZ = 70;
/** Highest (Hz): up to here the comb's floor bins, f0/2 from the tone, still hold the tone's skirt. */
const CLOSE_F0_MAX_HZ = 240;
/** A close partner's peak stands this far over the valley beyond it (dB 10 → ×10)… */
const CLOSE_OVER_VALLEY = 10;
/**
 * Bins a close partner is read from, at least this far from the tone: nearer, a pure tone's own Hann
 * sidelobe (−31 dB at 2.5 bins; ≤ −39 dB from 3 bins) would pass for one.
 */
const CLOSE_CLEAR_BINS = 3;
/** …and within this of the tone's peak bin (dB −35, as the comb). */
const CLOSE_REL = 10 ** (-35 / 10);

/**
 * For a voice of 70–240 Hz whose strongest harmonic f may pass for a tone (a woman's second harmonic
 * at 300–420 Hz, a man's third), the next harmonic f + f0 sits 2–5 bins from the tone, inside the ±2-bin
 * lobes the comb compares: there it (or f + 2·f0) is read as a peak bin (≥ 3 bins clear of the tone's own skirt)
 * standing 10 dB over the valley halfway to the harmonic after it (f + 1.5·f0), and within 35 dB of the
 * tone. Not for two close tones that beat (`close` false): through mu-law their products f ± k·Δf
 * form a comb of their own. Recorded prompts (Asterisk's voices: "vm-nobox", 347 Hz with 520 Hz 19 dB down; "dir-nomore",
 * 298 Hz with 447 Hz 31 dB down, 17 dB over its valley) fired as 60–130 ms beeps without it.
 */
function closePartner(p: Float64Array, f: number, f0: number): boolean {
  const ct = f / BIN_HZ;
  const tone = Math.max(p[Math.floor(ct)] as number, p[Math.ceil(ct)] as number);
  // The next harmonic, or the one after it (a man's 3rd harmonic may sit in a spectral valley while
  // his 4th stands out: Carlo's "vm-tempgreeting2", 312 Hz with 468 Hz 37 dB down and 625 Hz 30 dB).
  for (let j = 1; j <= 2; j++) {
    const fu = f + j * f0;
    if (distortionProduct(f, fu)) continue;
    const c = fu / BIN_HZ;
    const kv = Math.round((fu + f0 / 2) / BIN_HZ);
    if (kv + 1 > BAND_HI) return false;
    // The partner is a peak where the series puts it (within half a bin): a mains-hum line (420 Hz
    // for a 300 Hz beep) or a noise bump a bin off proves nothing.
    let kp = -1;
    for (let k = Math.floor(c) - 1; k <= Math.ceil(c) + 1; k++) if (k - ct >= CLOSE_CLEAR_BINS && (kp < 0 || (p[k] as number) > (p[kp] as number))) kp = k;
    if (kp < 0 || !((p[kp] as number) >= (p[kp - 1] as number) && (p[kp] as number) >= (p[kp + 1] as number))) continue;
    if (Math.abs(interpolatedHz(p, kp) - fu) > BIN_HZ / 2) continue;
    const peak = p[kp] as number;
    const valley = ((p[kv] as number) + Math.min(p[kv - 1] as number, p[kv + 1] as number)) / 2;
    if (peak > tone * CLOSE_REL && 10 * Math.log10(peak / Math.max(valley, 1e-9)) > CLOSE_OVER_VALLEY) return true;
  }
  return false;
}

/** Harmonic numbers tried for the tone in the lower-series test (f0 = f/n; n ≥ 3 gives two lower neighbours). */
const LOWER_MIN_N = 3;
const LOWER_MAX_N = 5;
/** Lowest bin read for a lower neighbour: bins 0–1 hold DC and mains' fundamental. */
const LOWER_MIN_BIN = 2;

/**
 * How loud the weaker of a tone's two lower neighbours f − f0 and f − 2·f0 stands relative to it (dB,
 * −Infinity when no voice's series through the tone has both clear of its skirt), the best over f0 = f/n,
 * n = 3…5, f0 = 70–240 Hz: a man's or a woman's voice whose 3rd–5th harmonic, boosted by the first
 * formant, may pass for a pure tone. Read on the step's summed spectrum as bin values (harmonics 3–4 bins
 * apart are not resolved into peaks and valleys by the 32 ms window, so closePartner misses them), at
 * least CLOSE_CLEAR_BINS plus half the tone's spread from it. A beep has nothing there: the Hann skirt is
 * under −39 dB from 3 bins, mu-law's products are odd harmonics above it; only noise and hum.
 */
export function lowerSeriesDb(p: Float64Array, f: number, spreadHz: number): number {
  const ct = f / BIN_HZ;
  const tone = Math.max(p[Math.floor(ct)] as number, p[Math.ceil(ct)] as number);
  if (!(tone > 0)) return -Infinity;
  const clear = CLOSE_CLEAR_BINS + spreadHz / 2 / BIN_HZ;
  let best = -Infinity;
  for (let n = LOWER_MIN_N; n <= LOWER_MAX_N; n++) {
    const f0 = f / n;
    if (f0 < CLOSE_F0_MIN_HZ || f0 > CLOSE_F0_MAX_HZ) continue;
    let weakest = Infinity;
    for (let j = 1; j <= 2; j++) {
      const c = (f - j * f0) / BIN_HZ;
      let top = 0;
      let read = false;
      for (let k = Math.floor(c); k <= Math.ceil(c); k++) {
        if (k < LOWER_MIN_BIN || ct - k < clear) continue;
        read = true;
        top = Math.max(top, p[k] as number);
      }
      weakest = read ? Math.min(weakest, top) : 0;
    }
    if (weakest > 0) best = Math.max(best, 10 * Math.log10(weakest / tone));
  }
  return best;
}

/** How close (relative) the lower of two components must be to a whole multiple of their spacing. */
const PAIR_RATIO_TOLERANCE = 0.03;

/**
 * Whether two simultaneous components f1 < f2 are two neighbouring harmonics of a voice rather than a
 * dual beep: their spacing d = f2 − f1 divides f1 (f1 = n·d, so they are harmonics n and n + 1 of
 * f0 = d) and the next harmonic up, f2 + d, stands out too — a dual beep's pair (440 + 620, 1400 + 1800,
 * …) is seldom in such a ratio and never has a third component.
 */
export function harmonicPair(p: Float64Array, f1: number, f2: number, e: number): boolean {
  if (!harmonicRatio(f1, f2)) return false;
  const d = f2 - f1;
  return !distortionProduct(f2, f2 + d) && partnerStrength(p, f2 + d, d, e) === 1;
}

/** Whether f1 < f2 could be two neighbouring harmonics of one voice: their spacing divides f1. */
export function harmonicRatio(f1: number, f2: number): boolean {
  const d = f2 - f1;
  if (!(d > 0)) return false;
  const n = Math.round(f1 / d);
  return n >= 1 && Math.abs(f1 - n * d) <= PAIR_RATIO_TOLERANCE * f1;
}

/**
 * 1 when the lobe at `fh` stands out of the floor midway to its neighbours at fh ± f0/2; 0 when it
 * does not; −1 when it is out of the band.
 */
function partnerStrength(p: Float64Array, fh: number, f0: number, e: number): number {
  const k = Math.round(fh / BIN_HZ);
  const ka = Math.round((fh - f0 / 2) / BIN_HZ);
  const kb = Math.round((fh + f0 / 2) / BIN_HZ);
  if (k - LOBE < BAND_LO || k + LOBE > BAND_HI || ka - 1 < BAND_LO || kb + 1 > HALF) return -1;
  const eh = lobeEnergy(p, k);
  if (eh < e * COMB_REL) return 0;
  // Three bins on each side, so a few summed hops of noise give a steady floor.
  const floor =
    (((p[ka - 1] as number) + (p[ka] as number) + (p[ka + 1] as number) + (p[kb - 1] as number) + (p[kb] as number) + (p[kb + 1] as number)) / 6) *
    (2 * LOBE + 1);
  return eh > floor * COMB_OVER_FLOOR ? 1 : 0;
}

/** Fundamentals a voice's two neighbouring harmonics may be spaced by (Hz): low male to high female. */
const PAIR_F0_MIN_HZ = 70;
const PAIR_F0_MAX_HZ = 400;
/** Bins searched either side of a wide lobe's centroid for its two components (pairs up to ~310 Hz apart). */
const PAIR_SEARCH_BINS = 7;
/** How far (in harmonic numbers) fa/d may miss a whole number: the summed peaks of a jittering voice blur. */
const PAIR_RATIO_SLACK = 0.25;
/** The pair's weaker peak is within 10 dB of the stronger (a dual beep's within 6 dB; a voice's two loudest harmonics). */
const PAIR_BALANCE = 0.1;
/** Harmonic bins nearer a component than this (bins) hold its own skirt (Hann: −24 dB at 1.7 bins). */
const NEIGHBOUR_CLEAR_BINS = 1.7;
/** The two loudest components may be this many harmonics apart (the ones between a dozen dB down). */
const PAIR_MAX_GAP = 3;
/** The telephone band's lower edge (G.712: 300 Hz). */
const LINE_LO_HZ = 300;

/** Harmonics this loud relative to the pair (dB) make it a voice (see pairNeighbourDb for the figures). */
const PAIR_NEIGHBOUR_DB = -22;

/** Two components of a wide lobe that are two harmonics of a voice (pairNeighbourDb). */
export function widePairVoiced(p: Float64Array, centreHz: number): boolean {
  return pairNeighbourDb(p, centreHz) > PAIR_NEIGHBOUR_DB;
}

/**
 * How loud the weakest harmonic around a two-component lobe stands relative to the pair (dB; −Infinity
 * when the lobe is not two components of a voice's harmonic series). The summed spectrum `p` of a step
 * seen as one wide lobe around `centreHz` is searched for its two strongest peaks fa < fb; if, for some
 * m ≤ 3, d = (fb − fa)/m is a voice's fundamental (70–400 Hz) and fa ≈ n·d, the pair would be harmonics
 * n and n + m of that voice, and its harmonics n − 1, n + 1 … n + m − 1, n + m + 1 (at fa − d, fa + d …
 * fb + d) are read as bin values (at 2–4 bins from the pair a lobe sum would hold the pair's own skirt).
 * A dual beep has nothing there but mu-law's third-order products (2fa − fb, 2fb − fa, far weaker) and
 * noise. Measured on the summed spectrum through mu-law: voices whose other harmonics are 14–20 dB under
 * the pair give −14.6 to −22.9 dB (a recorded person's syllable, harmonics 3 and 5 of 133 Hz, −12 dB);
 * dual beeps whose tones sit in a harmonic ratio (350 + 440, 1000 + 1090, 600 + 900, 400 + 500 Hz…)
 * at most −24.9 dB at 12 dB SNR, −30.7 at 20 dB, −47 clean.
 */
export function pairNeighbourDb(p: Float64Array, centreHz: number): number {
  const kc = Math.round(centreHz / BIN_HZ);
  let ka = -1;
  let kb = -1;
  for (let k = Math.max(BAND_LO + 1, kc - PAIR_SEARCH_BINS); k <= Math.min(BAND_HI - 1, kc + PAIR_SEARCH_BINS); k++) {
    const v = p[k] as number;
    if (!(v >= (p[k - 1] as number) && v > (p[k + 1] as number))) continue;
    if (ka < 0 || v > (p[ka] as number)) {
      kb = ka;
      ka = k;
    } else if (kb < 0 || v > (p[kb] as number)) {
      kb = k;
    }
  }
  if (kb < 0 || (p[kb] as number) < (p[ka] as number) * PAIR_BALANCE) return -Infinity;
  const lo = Math.min(ka, kb);
  const hi = Math.max(ka, kb);
  const fa = interpolatedHz(p, lo);
  const fb = interpolatedHz(p, hi);
  const pair = Math.min(p[lo] as number, p[hi] as number);
  let best = -Infinity;
  // The two loudest may be harmonics n and n + m of the voice (a formant between them, the one in the
  // middle a dozen dB down): then the ones between them are tested too.
  for (let m = 1; m <= PAIR_MAX_GAP; m++) {
    const d = (fb - fa) / m;
    if (d < PAIR_F0_MIN_HZ || d > PAIR_F0_MAX_HZ) continue;
    const n = Math.round(fa / d);
    if (n < 1 || Math.abs(fa / d - n) > PAIR_RATIO_SLACK) continue;
    const weakest = weakestHarmonic(p, fa, fb, d, m);
    if (weakest > 0) best = Math.max(best, 10 * Math.log10(weakest / pair));
  }
  return best;
}

/**
 * The weakest of the harmonics fa − d, fa + d … fb − d, fb + d (power at its bin, 0 if none in the band).
 * Bins nearer than NEIGHBOUR_CLEAR_BINS to either component are not read: there the pair's own Hann
 * skirt (and its blur by a voice's jitter) rises above −20 dB.
 */
function weakestHarmonic(p: Float64Array, fa: number, fb: number, d: number, m: number): number {
  const ca = fa / BIN_HZ;
  const cb = fb / BIN_HZ;
  let weakest = Infinity;
  let tested = 0;
  for (let i = -1; i <= m + 1; i++) {
    if (i === 0 || i === m) continue;
    const fh = fa + i * d;
    const c = fh / BIN_HZ;
    const k = Math.round(c);
    // Below the telephone band's lower edge the line may have taken the harmonic away.
    if (fh < LINE_LO_HZ || k - 1 < BAND_LO || k + 1 > BAND_HI) continue;
    tested++;
    let top = 0;
    for (let j = k - 1; j <= k + 1; j++) {
      if (Math.abs(j - c) > 0.6 || Math.abs(j - ca) < NEIGHBOUR_CLEAR_BINS || Math.abs(j - cb) < NEIGHBOUR_CLEAR_BINS) continue;
      const v = p[j] as number;
      if (v > top) top = v;
    }
    if (top < weakest) weakest = top;
  }
  return tested > 0 ? weakest : 0;
}
