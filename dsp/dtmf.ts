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
import { goertzelComplex, goertzelProbe, type GoertzelProbe } from './goertzel.ts';
import { meanSquareToDbfs } from './levels.ts';
import { DTMF_COLS_HZ, DTMF_KEYS, DTMF_ROWS_HZ } from './dtmf-tones.ts';

export interface DtmfOptions {
  /** Weakest tone accepted (dBFS, per tone). Q.24 asks for ≥ 26 dB of dynamic range. */
  minToneDbfs?: number;
  /** High group weaker than low group by at most this (dB). */
  normalTwistDb?: number;
  /** High group stronger than low group by at most this (dB). */
  reverseTwistDb?: number;
  /** Share of the window's energy the two tones must hold. */
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
const HOP = 40;
const HITS_TO_DETECT = 5;
const MISSES_TO_END = 6;
/** Any other tone of the same group must sit this far below the strongest (power ratio, −10 dB). */
const RELATIVE_PEAK = 0.1;

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
  private readonly ring = new Float64Array(2 * N);
  private readonly bins = new Float64Array(16);
  private readonly scratch = new Float64Array(2);
  private readonly out: DtmfFrame = { digit: '', startSample: 0, ended: '', durationSamples: 0 };

  private pos = 0;
  private samples = 0;
  private sinceHop = 0;
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
    this.minToneShare = opts.minToneShare ?? 0.68;
    this.maxFrequencyError = opts.maxFrequencyError ?? 0.025;
    if (!(this.minToneDbfs < 0)) throw new RangeError('minToneDbfs must be negative');
    if (!(this.normalTwistDb >= 0 && this.reverseTwistDb >= 0)) throw new RangeError('twist limits must be ≥ 0 dB');
    // Below 0.65 a 23 ms tone can give 5 hits (see the header); above 0.9 noise at 15 dB S/N fails.
    if (!(this.minToneShare >= 0.65 && this.minToneShare <= 0.9)) throw new RangeError('minToneShare must be in [0.65, 0.9]');
    if (!(this.maxFrequencyError >= 0.015 && this.maxFrequencyError <= 0.035)) {
      throw new RangeError('maxFrequencyError must be in [0.015, 0.035] (Q.24)');
    }
    const freqs = [...DTMF_ROWS_HZ, ...DTMF_COLS_HZ];
    this.probes = freqs.map((f) => goertzelProbe(f));
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
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const x = frame[i] as number;
      this.ring[this.pos] = x;
      this.ring[this.pos + N] = x;
      this.pos = this.pos + 1 === N ? 0 : this.pos + 1;
      this.samples++;
      if (++this.sinceHop === HOP) {
        this.sinceHop = 0;
        if (this.samples >= N) this.analyse();
      }
    }
    return out;
  }

  /** Classify the window ending now; returns through the run/digit state. */
  private analyse(): void {
    const start = this.pos; // ring[pos .. pos+N) is the last N samples in order
    let energy = 0;
    for (let i = start; i < start + N; i++) {
      const v = this.ring[i] as number;
      energy += v * v;
    }
    const key = energy > 0 ? this.classify(start, energy) : -1;
    if (key >= 0) this.hit(key);
    else this.miss();
  }

  /** Digit index 0–15 when the window holds a valid DTMF pair, else −1. */
  private classify(start: number, energy: number): number {
    const b = this.bins;
    for (let j = 0; j < 8; j++) {
      goertzelComplex(this.ring, start, N, this.probes[j] as GoertzelProbe, this.scratch);
      b[2 * j] = this.scratch[0] as number;
      b[2 * j + 1] = this.scratch[1] as number;
    }
    const row = strongest(b, 0);
    const col = strongest(b, 4);
    const pRow = power(b, row);
    const pCol = power(b, col);
    const norm = (N * energy) / 2;
    if ((pRow + pCol) / norm < this.minToneShare) return -1;
    for (let j = 0; j < 4; j++) {
      if (j !== row && power(b, j) > pRow * RELATIVE_PEAK) return -1;
      if (j + 4 !== col && power(b, j + 4) > pCol * RELATIVE_PEAK) return -1;
    }
    const twistDb = 10 * Math.log10(pCol / pRow);
    if (twistDb < -this.normalTwistDb || twistDb > this.reverseTwistDb) return -1;
    // Tone level: share of the window's mean square.
    const ms = energy / N;
    if (meanSquareToDbfs((ms * Math.min(pRow, pCol)) / norm) < this.minToneDbfs) return -1;
    return row * 4 + (col - 4);
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
    this.ring.fill(0);
    this.pos = 0;
    this.samples = 0;
    this.sinceHop = 0;
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
