// Per-frame prosody of the answer, for the AMD classifier (dsp/amdModel.ts). Timing alone cannot
// tell a person who says a full sentence from a greeting that pauses after "Hi, you've reached …";
// how it was said can: a live answer has uneven loudness, a pitch that moves (a rising "Hello?"),
// few syllables and ends; a recorded greeting is read fast and evenly, levelled by the recorder.
//
// Per 20 ms frame (only while AMD is still deciding): the VAD's level and activity, a zero-lag /
// lag-one energy ratio (spectral tilt), and on active frames a pitch estimate by normalised
// autocorrelation of the signal decimated to 4 kHz over a 40 ms window (lags 10–50: 80–400 Hz).
// Everything is stored in preallocated arrays indexed by frame; `compute` derives the utterance's
// features once per checkpoint (not per frame). Pure, on the media clock, no allocation per frame.
import { FRAME_SAMPLES } from './frame.ts';
import type { VadFrame } from './vad.ts';

/** Frames kept from the answer on (12 s): AMD decides well before. */
const MAX_FRAMES = 600;
const HALF = FRAME_SAMPLES / 2; // 80 samples at 4 kHz per frame
const WIN = 2 * HALF; // 40 ms at 4 kHz
const LAG_MIN = 10; // 400 Hz
const LAG_MAX = 50; // 80 Hz
const SUM_LEN = WIN - LAG_MAX;
/** Normalised autocorrelation a frame needs to count as voiced. */
const VOICED_R = 0.6;
/** Internal pauses shorter than this are gaps between words, not pauses. */
const PAUSE_MIN_FRAMES = 6; // 120 ms
/** A pause this long splits the answer into stretches ("Hello? … [pause] … who is this?"). */
const PART_BREAK_FRAMES = 15; // 300 ms
/** A syllable nucleus: a level peak this far above the dip before it. */
const SYLLABLE_DIP_DB = 3;
/**
 * Syllabic modulation: the level envelope (frames at 50 Hz, floored this far under the active frames'
 * mean level so the figure does not depend on the line's gain or noise floor) through two band-passes
 * (RBJ biquads, constant 0 dB peak): the syllable band 3–6 Hz (centre √18 Hz, Q = centre / 3 Hz) and
 * the whole modulation range 1–12 Hz (centre √12 Hz, Q = centre / 11 Hz); the feature is their energy ratio.
 */
const FRAME_RATE_HZ = 8000 / FRAME_SAMPLES;
const MOD_FLOOR_DB = 30;
const MOD_BAND = bandPass(Math.sqrt(3 * 6), Math.sqrt(3 * 6) / 3);
const MOD_WIDE = bandPass(Math.sqrt(1 * 12), Math.sqrt(1 * 12) / 11);
/** Final pitch position needs more voiced frames than this (a range to place the ending in); else neutral. */
const FINAL_POSITION_MIN_VOICED = 5;
const FINAL_POSITION_UNKNOWN = 0.5;

/** Feature names, in the order of the vector `compute` fills; the model's weights follow it. */
export const FEATURE_NAMES = [
  'speechS', // timing: utterance span so far (onset → last active frame), s
  'silenceS', // timing: silence since the utterance's last active frame, s
  'onsetS', // timing: answer → first speech, s
  'activeFraction', // pause structure: share of the span that is active
  'pauses', // pause structure: internal pauses ≥ 120 ms
  'longestPauseS', // pause structure
  'syllables', // syllable nuclei (level peaks) in the span
  'syllableRate', // nuclei per active second
  'pitchRiseSt', // pitch of the last voiced frames minus the median, semitones
  'pitchSpreadSt', // mean absolute deviation of pitch around its median, semitones
  'voicedFraction', // voiced share of active frames
  'levelSpreadDb', // level steadiness: mean absolute deviation of active frames' level, dB
  'levelDeltaDb', // dynamics: mean |Δ level| between consecutive active frames, dB
  'tilt', // spectral shape: mean lag-one difference energy ratio (0 dark … 4 bright)
  'firstPartS', // answer structure: the first stretch of speech (up to a pause ≥ 300 ms), s
  'parts', // answer structure: stretches of speech separated by pauses ≥ 300 ms
  'lastPartS', // answer structure: the latest stretch, s
  'syllabicModulation', // rhythm: share of the level envelope's 1–12 Hz modulation in 3–6 Hz (0 … 1)
  'finalPitchPosition', // intonation: the last voiced frames' pitch within the speaker's 10–90% range (0 floor … 1 top)
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];
export const FEATURE_COUNT = FEATURE_NAMES.length;

export class UtteranceTracker {
  private readonly level = new Float32Array(MAX_FRAMES);
  private readonly active = new Uint8Array(MAX_FRAMES);
  /** Pitch in semitones re 100 Hz, NaN when unvoiced or inactive. */
  private readonly pitch = new Float32Array(MAX_FRAMES);
  private readonly tilt = new Float32Array(MAX_FRAMES);
  private readonly dec = new Float32Array(WIN);
  private readonly corr = new Float32Array(LAG_MAX + 1);
  /** Frames seen so far (index of the next frame). */
  private frames = 0;
  /** Scratch for the pitch median (voiced frames of one span). */
  private readonly scratch = new Float32Array(MAX_FRAMES);
  readonly features = new Float64Array(FEATURE_COUNT);

  get frameCount(): number {
    return this.frames;
  }

  push(vad: VadFrame, pcm: Int16Array | null): void {
    const i = this.frames;
    if (i >= MAX_FRAMES) return;
    this.frames++;
    this.level[i] = vad.dbfs;
    this.active[i] = vad.active ? 1 : 0;
    this.pitch[i] = NaN;
    this.tilt[i] = NaN;
    if (pcm === null) return;
    // Decimate by two (pair averages: a crude low-pass, enough for voice pitch) behind the last frame.
    const dec = this.dec;
    dec.copyWithin(0, HALF);
    let e0 = 0;
    let e1 = 0;
    let prev = pcm[0] as number;
    for (let k = 0; k < HALF; k++) {
      const a = pcm[2 * k] as number;
      const b = pcm[2 * k + 1] as number;
      dec[HALF + k] = (a + b) * 0.5;
      e0 += a * a + b * b;
      e1 += (a - prev) * (a - prev) + (b - a) * (b - a);
      prev = b;
    }
    if (!vad.active) return;
    this.tilt[i] = e0 > 0 ? e1 / e0 : 0;
    if (i === 0) return;
    this.pitch[i] = estimatePitchSt(dec, this.corr);
  }

  /**
   * The features of the span [startSample, lastActiveSample) with `silenceSamples` after it and
   * `onsetSample` as the first speech, into `this.features` (reused). Once per checkpoint.
   */
  compute(onsetSample: number, lastActiveSample: number, silenceSamples: number): Float64Array {
    const f = this.features;
    const a = Math.max(0, Math.floor(onsetSample / FRAME_SAMPLES));
    const b = Math.min(this.frames, Math.max(a, Math.ceil(lastActiveSample / FRAME_SAMPLES)));
    const spanFrames = Math.max(1, b - a);
    let activeN = 0;
    let levelSum = 0;
    let pauses = 0;
    let longest = 0;
    let run = 0;
    let tiltSum = 0;
    let tiltN = 0;
    let voiced = 0;
    let syllables = 0;
    let dip = Infinity;
    let rising = false;
    let deltaSum = 0;
    let deltaN = 0;
    let prevLevel = NaN;
    let parts = 1;
    let firstPartEnd = -1;
    let partStart = a;
    let lastActiveFrame = a;
    for (let i = a; i < b; i++) {
      const lv = this.level[i] as number;
      if (this.active[i]) {
        if (run >= PART_BREAK_FRAMES && i > a) {
          if (firstPartEnd < 0) firstPartEnd = lastActiveFrame + 1;
          parts++;
          partStart = i;
        }
        lastActiveFrame = i;
        if (run >= PAUSE_MIN_FRAMES) pauses++;
        run = 0;
        activeN++;
        levelSum += lv;
        if (!Number.isNaN(prevLevel)) {
          deltaSum += Math.abs(lv - prevLevel);
          deltaN++;
        }
        prevLevel = lv;
        const t = this.tilt[i] as number;
        if (!Number.isNaN(t)) {
          tiltSum += t;
          tiltN++;
        }
        const p = this.pitch[i] as number;
        if (!Number.isNaN(p)) this.scratch[voiced++] = p;
      } else {
        run++;
        if (run > longest) longest = run;
      }
      // Syllable nuclei: a level peak at least SYLLABLE_DIP_DB over the lowest point since the last one.
      const next = i + 1 < b ? (this.level[i + 1] as number) : -Infinity;
      if (lv < dip) dip = lv;
      const prevLv = i > a ? (this.level[i - 1] as number) : -Infinity;
      rising = lv >= prevLv;
      if (rising && lv > next && this.active[i] && lv - dip >= SYLLABLE_DIP_DB) {
        syllables++;
        dip = lv;
      }
    }
    const levelMean = activeN > 0 ? levelSum / activeN : 0;
    let spread = 0;
    for (let i = a; i < b; i++) if (this.active[i]) spread += Math.abs((this.level[i] as number) - levelMean);
    const activeS = (activeN * FRAME_SAMPLES) / 8000;
    // Pitch: median of voiced frames, the spread around it and where the last voiced frames end up.
    let pitchMed = 0;
    let pitchSpread = 0;
    let rise = 0;
    let finalPosition = FINAL_POSITION_UNKNOWN;
    if (voiced >= 3) {
      const v = this.scratch.subarray(0, voiced);
      const tail = Math.min(5, voiced);
      let tailSum = 0;
      for (let k = voiced - tail; k < voiced; k++) tailSum += v[k] as number;
      v.sort();
      pitchMed = v[voiced >> 1] as number;
      for (let k = 0; k < voiced; k++) pitchSpread += Math.abs((v[k] as number) - pitchMed);
      pitchSpread /= voiced;
      rise = tailSum / tail - pitchMed;
      // Where the answer ends within the speaker's own range: a declarative ending ("… after the tone.")
      // falls to the speaker's floor (final lowering), a live "…who's calling?" or a cut-off answer does
      // not. Relative to the speaker's range, so high and low voices compare.
      const floor = v[Math.floor(voiced * 0.1)] as number;
      const top = v[Math.floor(voiced * 0.9)] as number;
      if (voiced > FINAL_POSITION_MIN_VOICED && top - floor >= 1) finalPosition = Math.max(-1, Math.min(2, (tailSum / tail - floor) / (top - floor)));
    }
    f[0] = (Math.max(0, lastActiveSample - onsetSample)) / 8000;
    f[1] = silenceSamples / 8000;
    f[2] = Math.min(5, onsetSample / 8000);
    f[3] = activeN / spanFrames;
    f[4] = pauses;
    f[5] = (Math.min(longest, spanFrames) * FRAME_SAMPLES) / 8000;
    f[6] = syllables;
    f[7] = activeS > 0 ? syllables / activeS : 0;
    f[8] = rise;
    f[9] = pitchSpread;
    f[10] = activeN > 0 ? voiced / activeN : 0;
    f[11] = activeN > 0 ? spread / activeN : 0;
    f[12] = deltaN > 0 ? deltaSum / deltaN : 0;
    f[13] = tiltN > 0 ? tiltSum / tiltN : 0;
    const frameS = FRAME_SAMPLES / 8000;
    f[14] = ((firstPartEnd < 0 ? b : firstPartEnd) - a) * frameS;
    f[15] = parts;
    f[16] = (b - partStart) * frameS;
    f[17] = this.syllabicModulation(a, b, levelMean - MOD_FLOOR_DB);
    f[18] = finalPosition;
    return f;
  }

  /**
   * Share of the level envelope's modulation (1–12 Hz) that lies in the syllable band (3–6 Hz), over
   * frames [a, b). Read speech — a recorded greeting, an announcement — beats out its syllables at a
   * steady ~4–5 Hz; a live answer's loudness moves more slowly and unevenly (stress, hesitation, a
   * word held) — cf. the ~4 Hz peak of speech's modulation spectrum (Houtgast & Steeneken; Drullman et
   * al. 1994). One pass of two biquads over the span's frames, at the checkpoint only.
   */
  private syllabicModulation(a: number, b: number, floor: number): number {
    const n = b - a;
    // Under a second the envelope holds less than one period of the slowest modulation measured.
    if (n < FRAME_RATE_HZ) return 0;
    let mean = 0;
    for (let i = a; i < b; i++) mean += Math.max(this.level[i] as number, floor);
    mean /= n;
    // Both filters in one pass; state as locals (no allocation at the checkpoint).
    let bx1 = 0;
    let bx2 = 0;
    let by1 = 0;
    let by2 = 0;
    let wy1 = 0;
    let wy2 = 0;
    let band = 0;
    let wide = 0;
    const B = MOD_BAND;
    const W = MOD_WIDE;
    for (let i = a; i < b; i++) {
      const x = Math.max(this.level[i] as number, floor) - mean;
      const yb = B.b0 * x - B.b0 * bx2 - B.a1 * by1 - B.a2 * by2;
      const yw = W.b0 * x - W.b0 * bx2 - W.a1 * wy1 - W.a2 * wy2;
      bx2 = bx1;
      bx1 = x;
      by2 = by1;
      by1 = yb;
      wy2 = wy1;
      wy1 = yw;
      band += yb * yb;
      wide += yw * yw;
    }
    return wide > 0 ? Math.min(1, band / wide) : 0;
  }

  reset(): void {
    this.frames = 0;
    this.dec.fill(0);
  }
}

/**
 * Pitch of a 40 ms window at 4 kHz in semitones re 100 Hz, or NaN when it is not voiced: the lag of
 * the highest normalised autocorrelation in 80–400 Hz, preferring the shortest lag within 10% of
 * the best (an octave-low error is the usual failure of autocorrelation).
 */
function estimatePitchSt(x: Float32Array, r: Float32Array): number {
  let e0 = 0;
  for (let n = 0; n < SUM_LEN; n++) e0 += (x[n] as number) * (x[n] as number);
  if (e0 <= 0) return NaN;
  let eLag = 0;
  for (let n = LAG_MIN; n < LAG_MIN + SUM_LEN; n++) eLag += (x[n] as number) * (x[n] as number);
  let best = 0;
  for (let lag = LAG_MIN; lag <= LAG_MAX; lag++) {
    let c = 0;
    for (let n = 0; n < SUM_LEN; n++) c += (x[n] as number) * (x[n + lag] as number);
    const v = eLag > 0 ? c / Math.sqrt(e0 * eLag) : 0;
    r[lag] = v;
    if (v > best) best = v;
    if (lag < LAG_MAX) {
      // Slide the lagged window's energy one sample on.
      const out = x[lag] as number;
      const inn = x[lag + SUM_LEN] as number;
      eLag += inn * inn - out * out;
    }
  }
  if (best < VOICED_R) return NaN;
  // The first local maximum within 10% of the best: an octave-low pick is autocorrelation's usual error.
  for (let lag = LAG_MIN + 1; lag < LAG_MAX; lag++) {
    const v = r[lag] as number;
    if (v >= 0.9 * best && v >= (r[lag - 1] as number) && v >= (r[lag + 1] as number)) return 12 * Math.log2(4000 / lag / 100);
  }
  return NaN;
}

/** RBJ band-pass biquad (constant 0 dB peak gain) on the 50 Hz frame series: b1 = 0, b2 = −b0. */
function bandPass(centreHz: number, q: number): { b0: number; a1: number; a2: number } {
  const w = (2 * Math.PI * centreHz) / FRAME_RATE_HZ;
  const alpha = Math.sin(w) / (2 * q);
  return { b0: alpha / (1 + alpha), a1: (-2 * Math.cos(w)) / (1 + alpha), a2: (1 - alpha) / (1 + alpha) };
}
