// In-band DTMF detector to ITU-T Q.24 (frequencies within ±1.5% detected, beyond ±3.5% rejected;
// tones ≥ 40 ms detected, < 23 ms rejected; 10 ms interruptions bridged; twist 8 dB normal, 4 dB reverse;
// 15 dB S/N), for carriers or call legs that do not send DTMF events.
//
// Goertzel over 102-sample blocks (as spandsp's dtmf.c), but evaluated on a sliding window every
// 40 samples (5 ms) so duration is measured in 5 ms steps: a digit needs 5 consecutive hits, which
// any tone ≥ 40 ms gives (≥ 5 windows lie fully inside 320 samples) and no tone < 23 ms can (only
// ≤ 4 window positions overlap 184 samples by the required share). A 102-sample block resolves only
// ±39 Hz, so the ±1.5%/±3.5% frequency tolerance is checked separately: the phase advance of each
// tone's complex Goertzel output between successive windows gives its frequency offset (unambiguous
// to ±fs/(2·40) = ±100 Hz), averaged over the hits and compared with ±2.5%.
import { FRAME_SAMPLES, SAMPLE_RATE_HZ, type FrameProcessor } from './frame.ts';
import { goertzelProbe, type GoertzelProbe } from './goertzel.ts';
import { meanSquareToDbfs } from './levels.ts';
import { DTMF_COLS_HZ, DTMF_KEYS, DTMF_ROWS_HZ } from './dtmf-tones.ts';

export interface DtmfOptions {
  /** Weakest tone accepted (dBFS, per tone). Q.24 asks for ≥ 26 dB of dynamic range. */
  minToneDbfs?: number;
  /** High group weaker than low group by at most this (dB). */
  normalTwistDb?: number;
  /** High group stronger than low group by at most this (dB). */
  reverseTwistDb?: number;
  /**
   * Share of the window's energy the two tones must hold. Real key presses give ≥ 0.8 even at 15 dB
   * S/N and 1.5% off; voiced speech whose formants sit on a DTMF pair reaches ~0.75 (talk-off).
   */
  minToneShare?: number;
  /** Largest relative frequency error accepted: between Q.24's 1.5% (accept) and 3.5% (reject). */
  maxFrequencyError?: number;
}

/** Reused result: read before the next `process`. */
export interface DtmfFrame {
  /** A digit was recognised in this frame ('' when none). */
  digit: string;
  /** Estimated first sample of that digit's tone. */
  startSample: number;
  /** A digit's tone ended in this frame ('' when none). */
  ended: string;
  /** Duration of the ended digit, in samples. */
  durationSamples: number;
}

const N = 102;
/** History kept before a frame: a window's N samples and the one before its first (for its differences). */
const H = N + 1;
const HOP = 40;
const HITS_TO_DETECT = 5;
const MISSES_TO_END = 6;
/**
 * Any other tone of the same group must sit this far below the strongest (power ratio, −7 dB; spandsp
 * uses −8 dB). A tone 1.5% off leaks ~−13 dB into its neighbour's 102-sample bin, so not tighter.
 */
const RELATIVE_PEAK = 0.2;
/**
 * Twist measured on one window wobbles by about ±1 dB (the other tone's sidelobes add in and out of
 * phase), so the limits are applied with this margin to accept the full 8/4 dB.
 */
const TWIST_MARGIN_DB = 1.5;
/**
 * Bounds on a window's ratio of first-difference energy to energy, Σ(x[i] − x[i−1])² / Σx[i]². A tone
 * of frequency f gives 2(1 − cos 2πf/fs): 0.27 at 3.5% under 697 Hz, 1.52 at 3.5% over 1633 Hz. An
 * accepted window holds ≥ `minToneShare` (0.77) of its energy in its pair within the twist limits, the
 * rest anywhere from 0 (hum, DC) to 4 (fs/2): so its ratio lies in [0.77 × 0.32, 0.77 × 1.31 + 0.23 × 4]
 * = [0.25, 1.93], widened here by 20% for a short window's edge and cross terms. Voiced speech, its
 * energy under 700 Hz, mostly falls below (0.06 at 300 Hz): those windows skip the Goertzel bank.
 */
const MIN_DIFF_RATIO = 0.2;
const MAX_DIFF_RATIO = 2.3;

export class DtmfDetector implements FrameProcessor<DtmfFrame> {
  readonly minToneDbfs: number;
  readonly normalTwistDb: number;
  readonly reverseTwistDb: number;
  readonly minToneShare: number;
  readonly maxFrequencyError: number;

  private readonly probes: GoertzelProbe[];
  /** e^{-i·2π·f·HOP/fs} per probe: the phase a tone exactly on f advances in one hop. */
  private readonly hopCos = new Float64Array(8);
  private readonly hopSin = new Float64Array(8);
  /** The H = N + 1 samples before the current frame, then the frame (see process()). */
  private readonly hist = new Int16Array(H + FRAME_SAMPLES);
  private readonly bins = new Float64Array(16);
  private readonly coeffs = new Float64Array(8);
  /** 1 + 10^((normal twist + margin)/10): see classify(). */
  private readonly colBoundFactor: number;
  private readonly out: DtmfFrame = { digit: '', startSample: 0, ended: '', durationSamples: 0 };

  /** Sum of squares of the last N samples. */
  private energy = 0;
  /** Sum of squares of their first differences (each sample minus the one before it). */
  private diffEnergy = 0;
  private samples = 0;
  // Candidate run.
  private candidate = -1;
  private hits = 0;
  private runStart = 0;
  private prevRowRe = 0;
  private prevRowIm = 0;
  private prevColRe = 0;
  private prevColIm = 0;
  private rowAccRe = 0;
  private rowAccIm = 0;
  private colAccRe = 0;
  private colAccIm = 0;
  // Reported digit.
  private current = -1;
  private currentStart = 0;
  private lastHitEnd = 0;
  private misses = 0;

  constructor(opts: DtmfOptions = {}) {
    this.minToneDbfs = opts.minToneDbfs ?? -38;
    this.normalTwistDb = opts.normalTwistDb ?? 8;
    this.reverseTwistDb = opts.reverseTwistDb ?? 4;
    this.minToneShare = opts.minToneShare ?? 0.77;
    this.maxFrequencyError = opts.maxFrequencyError ?? 0.025;
    if (!(this.minToneDbfs < 0)) throw new RangeError('minToneDbfs must be negative');
    if (!(this.normalTwistDb >= 0 && this.reverseTwistDb >= 0)) throw new RangeError('twist limits must be ≥ 0 dB');
    // Below 0.65 a 23 ms tone can give 5 hits (see the header); above 0.9 noise at 15 dB S/N fails.
    if (!(this.minToneShare >= 0.65 && this.minToneShare <= 0.9)) throw new RangeError('minToneShare must be in [0.65, 0.9]');
    if (!(this.maxFrequencyError >= 0.015 && this.maxFrequencyError <= 0.035)) {
      throw new RangeError('maxFrequencyError must be in [0.015, 0.035] (Q.24)');
    }
    this.colBoundFactor = 1 + 10 ** ((this.normalTwistDb + TWIST_MARGIN_DB) / 10);
    const freqs = [...DTMF_ROWS_HZ, ...DTMF_COLS_HZ];
    this.probes = freqs.map((f) => goertzelProbe(f));
    this.probes.forEach((p, i) => (this.coeffs[i] = p.coeff));
    freqs.forEach((f, i) => {
      const w = (2 * Math.PI * f * HOP) / SAMPLE_RATE_HZ;
      this.hopCos[i] = Math.cos(w);
      this.hopSin[i] = -Math.sin(w);
    });
  }

  process(frame: Int16Array): DtmfFrame {
    if (frame.length !== FRAME_SAMPLES) throw new RangeError(`frame must hold ${FRAME_SAMPLES} samples`);
    const out = this.out;
    out.digit = '';
    out.ended = '';
    // The history holds the last N samples before this frame, then the frame: every window ending on
    // one of the frame's four hops (160 = 4 × 40 samples) is a contiguous slice of it, filled by one copy instead of a ring write
    // per sample. The window's energy is a running sum over the hop's samples in and out (integers,
    // so exact): the per-sample ring and a per-window energy pass were most of the detector's cost on
    // a call that listens for keys.
    // The first differences' energy is kept the same way (integers below 2^53 too).
    const hist = this.hist;
    hist.set(frame, H);
    let energy = this.energy;
    let diffEnergy = this.diffEnergy;
    // The sample before each one (entering and leaving the window) is carried in a local rather than
    // read again: two array reads a sample instead of four. Samples are taken two at a time into two
    // pairs of sums, so the additions form two chains instead of one; every term and partial sum is an
    // integer below 2^53, so the order of the additions does not change the sums.
    let prev = hist[H - 1] as number;
    let prevOld = hist[H - 1 - N] as number;
    for (let end = H + HOP; end <= H + FRAME_SAMPLES; end += HOP) {
      let e1 = 0;
      let d1 = 0;
      for (let i = end - HOP; i < end; i += 2) {
        const x0 = hist[i] as number;
        const old0 = hist[i - N] as number;
        const x1 = hist[i + 1] as number;
        const old1 = hist[i + 1 - N] as number;
        energy += x0 * x0 - old0 * old0;
        e1 += x1 * x1 - old1 * old1;
        const da = x0 - prev;
        const dOldA = old0 - prevOld;
        const db = x1 - x0;
        const dOldB = old1 - old0;
        diffEnergy += da * da - dOldA * dOldA;
        d1 += db * db - dOldB * dOldB;
        prev = x1;
        prevOld = old1;
      }
      energy += e1;
      diffEnergy += d1;
      this.samples += HOP;
      if (this.samples >= N) this.analyse(end - N, energy, diffEnergy);
    }
    hist.copyWithin(0, FRAME_SAMPLES);
    this.energy = energy;
    this.diffEnergy = diffEnergy;
    return out;
  }

  /**
   * Classify the window hist[start, start + N) (`energy`: its sum of squares, `diffEnergy`: its first
   * differences'); returns through the run/digit state.
   */
  private analyse(start: number, energy: number, diffEnergy: number): void {
    const key = energy > 0 && diffEnergy >= MIN_DIFF_RATIO * energy && diffEnergy <= MAX_DIFF_RATIO * energy ? this.classify(start, energy) : -1;
    if (key >= 0) this.hit(key);
    else this.miss();
  }

  /** Digit index 0–15 when the window holds a valid DTMF pair, else −1. */
  private classify(start: number, energy: number): number {
    // Quick reject: too quiet for even one tone at the minimum level.
    if (meanSquareToDbfs(energy / N) < this.minToneDbfs) return -1;
    const b = this.bins;
    const norm = (N * energy) / 2;
    // The high group first: an accepted pair has pRow ≤ pCol·10^(twist/10) (normal twist) and
    // pRow + pCol ≥ share·norm, so a strongest column below share·norm / (1 + 10^(twist/10)) is
    // rejected by those tests anyway. Speech rarely puts that much into one 1.2–1.6 kHz bin, so most
    // loud windows end here at half the cost of the full bank (the slack keeps rounding on the
    // safe side: only windows clearly below the bound are cut short).
    this.goertzelGroup(start, 4);
    const col = strongest(b, 4);
    const pCol = power(b, col);
    if (pCol * this.colBoundFactor < this.minToneShare * norm * 0.999) return -1;
    this.goertzelGroup(start, 0);
    const row = strongest(b, 0);
    const pRow = power(b, row);
    if ((pRow + pCol) / norm < this.minToneShare) return -1;
    for (let j = 0; j < 4; j++) {
      if (j !== row && power(b, j) > pRow * RELATIVE_PEAK) return -1;
      if (j + 4 !== col && power(b, j + 4) > pCol * RELATIVE_PEAK) return -1;
    }
    const twistDb = 10 * Math.log10(pCol / pRow);
    if (twistDb < -this.normalTwistDb - TWIST_MARGIN_DB || twistDb > this.reverseTwistDb + TWIST_MARGIN_DB) return -1;
    // Tone level: the weaker tone's share of the window's mean square.
    const ms = energy / N;
    if (meanSquareToDbfs((ms * Math.min(pRow, pCol)) / norm) < this.minToneDbfs) return -1;
    return row * 4 + (col - 4);
  }

  /**
   * The four Goertzel recursions of one group (rows from 0, columns from 4) in one pass over the
   * window (one read per sample instead of four), each written out as the complex y of
   * goertzelComplex(). Each recursion is independent, so a group alone gives the same bins as the bank.
   */
  private goertzelGroup(start: number, from: number): void {
    const x = this.hist;
    const c = this.coeffs;
    const c0 = c[from] as number, c1 = c[from + 1] as number, c2 = c[from + 2] as number, c3 = c[from + 3] as number;
    let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    let b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (let i = start, end = start + N; i < end; i++) {
      const v = x[i] as number;
      let t = v + c0 * a0 - b0; b0 = a0; a0 = t;
      t = v + c1 * a1 - b1; b1 = a1; a1 = t;
      t = v + c2 * a2 - b2; b2 = a2; a2 = t;
      t = v + c3 * a3 - b3; b3 = a3; a3 = t;
    }
    this.bin(from, a0, b0);
    this.bin(from + 1, a1, b1);
    this.bin(from + 2, a2, b2);
    this.bin(from + 3, a3, b3);
  }

  private bin(j: number, s1: number, s2: number): void {
    const p = this.probes[j] as GoertzelProbe;
    this.bins[2 * j] = s1 - p.cosW * s2;
    this.bins[2 * j + 1] = p.sinW * s2;
  }

  private hit(key: number): void {
    const b = this.bins;
    const row = key >> 2;
    const col = (key & 3) + 4;
    this.misses = 0;
    this.lastHitEnd = this.samples;
    if (this.current >= 0) {
      if (key === this.current) return;
      // A different pair while a digit is held: end it and start a new candidate.
      this.endDigit();
    }
    const rRe = b[2 * row] as number;
    const rIm = b[2 * row + 1] as number;
    const cRe = b[2 * col] as number;
    const cIm = b[2 * col + 1] as number;
    if (key !== this.candidate) {
      this.candidate = key;
      this.hits = 1;
      this.runStart = this.samples - N;
      this.rowAccRe = this.rowAccIm = this.colAccRe = this.colAccIm = 0;
    } else {
      this.hits++;
      // z_k · conj(z_{k-1}) · e^{-iωL}: its angle is 2π·Δf·L/fs for a tone Δf off the nominal frequency.
      let xr = rRe * this.prevRowRe + rIm * this.prevRowIm;
      let xi = rIm * this.prevRowRe - rRe * this.prevRowIm;
      let c = this.hopCos[row] as number;
      let s = this.hopSin[row] as number;
      this.rowAccRe += xr * c - xi * s;
      this.rowAccIm += xr * s + xi * c;
      xr = cRe * this.prevColRe + cIm * this.prevColIm;
      xi = cIm * this.prevColRe - cRe * this.prevColIm;
      c = this.hopCos[col] as number;
      s = this.hopSin[col] as number;
      this.colAccRe += xr * c - xi * s;
      this.colAccIm += xr * s + xi * c;
    }
    this.prevRowRe = rRe;
    this.prevRowIm = rIm;
    this.prevColRe = cRe;
    this.prevColIm = cIm;
    if (this.hits < HITS_TO_DETECT) return;
    const scale = SAMPLE_RATE_HZ / (2 * Math.PI * HOP);
    const rowErr = (Math.atan2(this.rowAccIm, this.rowAccRe) * scale) / (DTMF_ROWS_HZ[row] as number);
    const colErr = (Math.atan2(this.colAccIm, this.colAccRe) * scale) / (DTMF_COLS_HZ[col - 4] as number);
    this.candidate = -1;
    this.hits = 0;
    if (Math.abs(rowErr) > this.maxFrequencyError || Math.abs(colErr) > this.maxFrequencyError) return;
    this.current = key;
    this.currentStart = this.runStart;
    this.out.digit = keyChar(key);
    this.out.startSample = this.runStart;
  }

  private miss(): void {
    this.candidate = -1;
    this.hits = 0;
    if (this.current >= 0 && ++this.misses >= MISSES_TO_END) this.endDigit();
  }

  private endDigit(): void {
    this.out.ended = keyChar(this.current);
    this.out.durationSamples = this.lastHitEnd - this.currentStart;
    this.current = -1;
    this.misses = 0;
  }

  reset(): void {
    this.hist.fill(0);
    this.energy = 0;
    this.diffEnergy = 0;
    this.samples = 0;
    this.candidate = -1;
    this.hits = 0;
    this.runStart = 0;
    this.prevRowRe = this.prevRowIm = this.prevColRe = this.prevColIm = 0;
    this.rowAccRe = this.rowAccIm = this.colAccRe = this.colAccIm = 0;
    this.current = -1;
    this.currentStart = 0;
    this.lastHitEnd = 0;
    this.misses = 0;
    this.out.digit = '';
    this.out.ended = '';
    this.out.startSample = 0;
    this.out.durationSamples = 0;
  }
}

function power(b: Float64Array, j: number): number {
  const re = b[2 * j] as number;
  const im = b[2 * j + 1] as number;
  return re * re + im * im;
}

function strongest(b: Float64Array, from: number): number {
  let best = from;
  for (let j = from + 1; j < from + 4; j++) if (power(b, j) > power(b, best)) best = j;
  return best;
}

function keyChar(key: number): string {
  return (DTMF_KEYS[key >> 2] as string).charAt(key & 3);
}
