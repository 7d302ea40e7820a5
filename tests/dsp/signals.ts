// Synthetic test signals at 8 kHz: tones, DTMF, noise, speech-like voiced syllables and chords, with a
// seeded PRNG so every run is the same. Levels are dBFS referenced to a full-scale sine (as dsp/levels.ts).
import { FRAME_SAMPLES, SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import { DTMF_COLS_HZ, DTMF_KEYS, DTMF_ROWS_HZ } from '../../dsp/dtmf-tones.ts';
import { createRng } from '../../scripts/fixtures/signal.ts';
import { decodeMulawInto, encodeMulaw } from '../../dsp/mulaw.ts';

/** Mulberry32, the same seeded PRNG the fixture builders use. */
export const rng = createRng;

export const ms = (n: number): number => Math.round((n * SAMPLE_RATE_HZ) / 1000);
const amp = (dbfs: number): number => 32767 * 10 ** (dbfs / 20);

export function silence(durMs: number): Float64Array {
  return new Float64Array(ms(durMs));
}

export function tone(freqHz: number, durMs: number, dbfs = -12, phase = 0): Float64Array {
  const out = new Float64Array(ms(durMs));
  const a = amp(dbfs);
  const w = (2 * Math.PI * freqHz) / SAMPLE_RATE_HZ;
  for (let i = 0; i < out.length; i++) out[i] = a * Math.sin(w * i + phase);
  return out;
}

/** Sum of tones of equal level (chords, dual tones); `dbfs` is the level of each. */
export function tones(freqsHz: number[], durMs: number, dbfs = -15): Float64Array {
  const out = new Float64Array(ms(durMs));
  freqsHz.forEach((f, k) => add(out, tone(f, durMs, dbfs, k * 1.3)));
  return out;
}

/**
 * A DTMF key: low tone at `dbfs`, high tone at dbfs + twistDb (positive = reverse twist), each
 * frequency scaled by (1 + offset).
 */
export function dtmf(key: string, durMs: number, opts: { dbfs?: number; twistDb?: number; rowOffset?: number; colOffset?: number } = {}): Float64Array {
  const r = DTMF_KEYS.findIndex((row) => row.includes(key));
  const c = (DTMF_KEYS[r] as string).indexOf(key);
  const dbfs = opts.dbfs ?? -10;
  const low = tone((DTMF_ROWS_HZ[r] as number) * (1 + (opts.rowOffset ?? 0)), durMs, dbfs);
  const high = tone((DTMF_COLS_HZ[c] as number) * (1 + (opts.colOffset ?? 0)), durMs, dbfs + (opts.twistDb ?? 0), 0.7);
  return add(low, high);
}

export function noise(durMs: number, dbfs: number, seed = 1): Float64Array {
  const r = rng(seed);
  const out = new Float64Array(ms(durMs));
  // Gaussian by Box–Muller; rms of a full-scale sine is 32767/√2, so σ = amp/√2 gives `dbfs`.
  const sigma = amp(dbfs) / Math.SQRT2;
  for (let i = 0; i < out.length; i++) {
    const u = Math.max(1e-12, r());
    out[i] = sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

/** Vowel formant sets (F1, F2, F3 in Hz), after Peterson & Barney (1952) averages for men. */
const VOWELS: [number, number, number][] = [
  [270, 2290, 3010],
  [390, 1990, 2550],
  [530, 1840, 2480],
  [660, 1720, 2410],
  [730, 1090, 2440],
  [570, 840, 2410],
  [440, 1020, 2240],
  [300, 870, 2240],
  [640, 1190, 2390],
  [490, 1350, 1690],
];

/**
 * Speech-like voiced audio: syllables of a harmonic source (f0 with intonation and jitter) shaped by
 * vowel formants, with a syllabic (~4–6 Hz) envelope; `pauseMs` of silence between words of
 * 2–3 syllables. Level is the active-speech rms in dBFS.
 */
export function speech(durMs: number, opts: { dbfs?: number; seed?: number; f0?: number; pauseMs?: number; steadyVowel?: boolean } = {}): Float64Array {
  const r = rng(opts.seed ?? 7);
  const out = new Float64Array(ms(durMs));
  const f0Base = opts.f0 ?? 110 + r() * 100;
  let phase = new Float64Array(40);
  let i = 0;
  let syllable = 0;
  while (i < out.length) {
    const sylLen = opts.steadyVowel ? out.length : ms(140 + r() * 160);
    const [f1, f2, f3] = VOWELS[Math.floor(r() * VOWELS.length)] as [number, number, number];
    const f0Start = f0Base * (0.9 + r() * 0.25);
    const f0End = f0Start * (0.85 + r() * 0.25);
    for (let n = 0; n < sylLen && i < out.length; n++, i++) {
      const t = n / sylLen;
      const f0 = (f0Start + (f0End - f0Start) * t) * (1 + 0.004 * Math.sin(n * 0.05 + syllable));
      const env = opts.steadyVowel ? 1 : Math.sin(Math.PI * t) ** 0.6;
      let s = 0;
      for (let h = 1; h < phase.length; h++) {
        const f = h * f0;
        if (f > 3600) break;
        phase[h] = ((phase[h] as number) + (2 * Math.PI * f) / SAMPLE_RATE_HZ) % (2 * Math.PI);
        const g = formant(f, f1, 80) + 0.5 * formant(f, f2, 120) + 0.25 * formant(f, f3, 180);
        s += (g / h ** 0.3) * Math.sin(phase[h] as number);
      }
      out[i] = s * env;
    }
    syllable++;
    if (!opts.steadyVowel && syllable % (2 + Math.floor(r() * 2)) === 0) {
      i += ms(opts.pauseMs ?? 120 + r() * 120);
      phase = new Float64Array(40);
    }
  }
  return scaleTo(out, opts.dbfs ?? -20);
}

function formant(f: number, centre: number, bw: number): number {
  const x = (f - centre) / bw;
  return 1 / (1 + x * x);
}

/** Scale so the rms of the non-silent samples is `dbfs`. */
export function scaleTo(x: Float64Array, dbfs: number): Float64Array {
  let e = 0;
  let n = 0;
  for (const v of x) {
    if (v !== 0) {
      e += v * v;
      n++;
    }
  }
  const rms = n > 0 ? Math.sqrt(e / n) : 0;
  const target = amp(dbfs) / Math.SQRT2;
  if (rms > 0) for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * (target / rms);
  return x;
}

/** In-place sum into `a` (length of a). */
export function add(a: Float64Array, b: Float64Array, at = 0): Float64Array {
  for (let i = 0; i < b.length && at + i < a.length; i++) a[at + i] = (a[at + i] as number) + (b[i] as number);
  return a;
}

export function concat(...parts: Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Clip and round to 16-bit PCM, padded with silence to whole frames. */
export function pcm(x: Float64Array): Int16Array {
  const out = new Int16Array(Math.ceil(x.length / FRAME_SAMPLES) * FRAME_SAMPLES);
  for (let i = 0; i < x.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(x[i] as number)));
  return out;
}

/** Feed whole 160-sample frames through `fn` (one reused frame buffer, as the call layer does). */
export function frames(samples: Int16Array, fn: (frame: Int16Array, startSample: number) => void): void {
  const frame = new Int16Array(FRAME_SAMPLES);
  for (let s = 0; s + FRAME_SAMPLES <= samples.length; s += FRAME_SAMPLES) {
    frame.set(samples.subarray(s, s + FRAME_SAMPLES));
    fn(frame, s);
  }
}

/**
 * A sustained sung/held vowel: a glottal-pulse-like harmonic series (each harmonic −`tiltDb` dB per
 * octave, F1 emphasis at `f1`), pitch `f0` with vibrato (`vibratoPct` at 5.5 Hz) and cycle-to-cycle
 * jitter (`jitterPct`), slight shimmer. The case a beep detector confuses most: a high, steady pitch.
 */
export function vowel(
  durMs: number,
  opts: { f0?: number; dbfs?: number; seed?: number; vibratoPct?: number; jitterPct?: number; tiltDb?: number; f1?: number } = {},
): Float64Array {
  const r = rng(opts.seed ?? 3);
  const f0 = opts.f0 ?? 370;
  const vib = (opts.vibratoPct ?? 1) / 100;
  const jit = (opts.jitterPct ?? 0.5) / 100;
  const tilt = opts.tiltDb ?? 12;
  const f1 = opts.f1 ?? f0 * 1.1;
  const out = new Float64Array(ms(durMs));
  const phase = new Float64Array(12);
  let j = 0;
  for (let i = 0; i < out.length; i++) {
    if (i % 20 === 0) j = 0.8 * j + jit * (r() * 2 - 1);
    const f = f0 * (1 + vib * Math.sin((2 * Math.PI * 5.5 * i) / SAMPLE_RATE_HZ)) * (1 + j);
    let s = 0;
    for (let h = 1; h < phase.length && h * f < 3800; h++) {
      phase[h] = ((phase[h] as number) + (2 * Math.PI * h * f) / SAMPLE_RATE_HZ) % (2 * Math.PI);
      const g = 10 ** ((-tilt * Math.log2(h)) / 20) * (1 + 2 * formant(h * f, f1, 120));
      s += g * Math.sin(phase[h] as number);
    }
    out[i] = s * (1 + 0.03 * Math.sin((2 * Math.PI * 3 * i) / SAMPLE_RATE_HZ));
  }
  return scaleTo(out, opts.dbfs ?? -18);
}

/**
 * A held voiced sound given harmonic by harmonic: `gainsDb[h − 1]` is harmonic h's level (dB, relative),
 * pitch `f0` with cycle-to-cycle jitter and 5.5 Hz vibrato (both in %), 5 ms onset and release. On a
 * telephone line the fundamental of a low voice is filtered away, so a higher harmonic may dominate.
 */
export function harmonicVoice(
  durMs: number,
  f0: number,
  gainsDb: number[],
  opts: { jitterPct?: number; vibratoPct?: number; seed?: number; dbfs?: number } = {},
): Float64Array {
  const r = rng(opts.seed ?? 1);
  const jit = (opts.jitterPct ?? 0.5) / 100;
  const vib = (opts.vibratoPct ?? 0.5) / 100;
  const out = new Float64Array(ms(durMs));
  const phase = new Float64Array(gainsDb.length + 1);
  const ramp = ms(5);
  let j = 0;
  for (let i = 0; i < out.length; i++) {
    if (i % 20 === 0) j = 0.8 * j + jit * (r() * 2 - 1);
    const f = f0 * (1 + vib * Math.sin((2 * Math.PI * 5.5 * i) / SAMPLE_RATE_HZ)) * (1 + j);
    let s = 0;
    for (let h = 1; h <= gainsDb.length; h++) {
      phase[h] = ((phase[h] as number) + (2 * Math.PI * h * f) / SAMPLE_RATE_HZ) % (2 * Math.PI);
      s += 10 ** ((gainsDb[h - 1] as number) / 20) * Math.sin(phase[h] as number);
    }
    out[i] = s * Math.min(1, i / ramp, (out.length - i) / ramp);
  }
  return scaleTo(out, opts.dbfs ?? -18);
}

/** Mains hum: `mainsHz` with its 3rd, 5th and 7th harmonics (an unbalanced analogue line), rms `dbfs`. */
export function hum(durMs: number, dbfs: number, mainsHz: 50 | 60, phase = 0): Float64Array {
  const out = new Float64Array(ms(durMs));
  for (let i = 0; i < out.length; i++) {
    const t = (2 * Math.PI * mainsHz * i) / SAMPLE_RATE_HZ + phase;
    out[i] = Math.sin(t) + 0.5 * Math.sin(3 * t) + 0.3 * Math.sin(5 * t) + 0.2 * Math.sin(7 * t);
  }
  return scaleTo(out, dbfs);
}

/** Through G.711 mu-law and back, as every call's audio is: PCM out, ready for `frames`. */
export function viaMulaw(x: Float64Array): Int16Array {
  const linear = pcm(x);
  const out = new Int16Array(linear.length);
  decodeMulawInto(encodeMulaw(linear), out);
  return out;
}

/**
 * A held voiced sound with a realistic source and one narrow resonance: harmonics of `f0` rolling off
 * `tiltDb` per octave, a formant at `formantHz` (bandwidth `formantBwHz`) raising the harmonics near it
 * by `formantDb`, the line's band (below 300 Hz cut 20 dB), cycle-to-cycle jitter and shimmer, vibrato
 * and tremolo at their own rates, 10 ms onset and release. With the formant midway between two
 * harmonics of a low voice, those two stand a dozen dB over the rest: to a beep detector, a dual tone.
 */
export function formantVoice(
  durMs: number,
  opts: {
    f0: number;
    formantHz: number;
    formantBwHz?: number;
    formantDb?: number;
    tiltDb?: number;
    jitterPct?: number;
    shimmerDb?: number;
    vibratoPct?: number;
    vibratoHz?: number;
    tremoloPct?: number;
    tremoloHz?: number;
    seed?: number;
    dbfs?: number;
  },
): Float64Array {
  const r = rng(opts.seed ?? 1);
  const jit = (opts.jitterPct ?? 0.7) / 100;
  const shim = opts.shimmerDb ?? 0.4;
  const vib = (opts.vibratoPct ?? 0.5) / 100;
  const trem = (opts.tremoloPct ?? 0) / 100;
  const bw = opts.formantBwHz ?? 60;
  const maxH = Math.floor(3800 / opts.f0);
  const gains = new Float64Array(maxH + 1);
  for (let h = 1; h <= maxH; h++) {
    const f = h * opts.f0;
    const x = (f - opts.formantHz) / (bw / 2);
    const db = -(opts.tiltDb ?? 12) * Math.log2(h) + (opts.formantDb ?? 24) / (1 + x * x) - (f < 300 ? 20 : 0);
    gains[h] = 10 ** (db / 20);
  }
  const out = new Float64Array(ms(durMs));
  const phase = new Float64Array(maxH + 1);
  const ramp = ms(10);
  const period = Math.round(SAMPLE_RATE_HZ / opts.f0);
  let j = 0;
  let a = 1;
  for (let i = 0; i < out.length; i++) {
    // Jitter and shimmer change once per glottal cycle.
    if (i % period === 0) {
      j = jit * (r() * 2 - 1);
      a = 10 ** ((shim * (r() * 2 - 1)) / 20);
    }
    const t = i / SAMPLE_RATE_HZ;
    const f = opts.f0 * (1 + vib * Math.sin(2 * Math.PI * (opts.vibratoHz ?? 5.5) * t)) * (1 + j);
    let s = 0;
    for (let h = 1; h <= maxH && h * f < 3900; h++) {
      phase[h] = ((phase[h] as number) + (2 * Math.PI * h * f) / SAMPLE_RATE_HZ) % (2 * Math.PI);
      s += (gains[h] as number) * Math.sin(phase[h] as number);
    }
    const tremolo = 1 - trem * 0.5 * (1 - Math.cos(2 * Math.PI * (opts.tremoloHz ?? 5) * t));
    out[i] = s * a * tremolo * Math.min(1, i / ramp, (out.length - i) / ramp);
  }
  return scaleTo(out, opts.dbfs ?? -18);
}
