// A recall sweep for the beep detector: single beeps 300–2000 Hz of 70 ms–1.5 s, dual beeps (the usual
// pairs, pairs in a harmonic ratio, close pairs that beat) and two-/three-step beeps, each on a line with white noise at 12 and
// 20 dB SNR and with 50/60 Hz mains hum 12 dB under the beep, through mu-law. A beep counts as found when
// signalled once, from its end to 150 ms after it (the AMD's latency target). Shared by the tests and by
// before/after measurements of a change (it takes any detector with the BeepDetector's `process`).
import { createRng, noise as lineNoise } from '../../scripts/fixtures/signal.ts';
import { add, concat, frames, hum, noise, silence, tone, tones, viaMulaw } from './signals.ts';

export interface BeepProcessor {
  process(frame: Int16Array): { beep: boolean };
}

export interface RecallSweep {
  cases: number;
  found: number;
  missed: string[];
  /** Signal time after the beep's end (ms), per found case. */
  latenciesMs: number[];
}

const LATE_MS = 150;

/** The frequencies (Hz) of the beeps a fresh detector from `make` signals over `x`, through mu-law. */
export function beepFrequencies(make: () => { process(frame: Int16Array): { beep: boolean; frequencyHz: number } }, x: Float64Array): number[] {
  const d = make();
  const found: number[] = [];
  frames(viaMulaw(x), (f) => {
    const r = d.process(f);
    if (r.beep) found.push(r.frequencyHz);
  });
  return found;
}

export function recallSweep(make: () => BeepProcessor): RecallSweep {
  const beeps: [string, Float64Array][] = [];
  for (const f of [300, 370, 440, 600, 850, 1000, 1400, 2000]) for (const d of [70, 100, 150, 300, 800, 1500]) beeps.push([`${f} Hz ${d} ms`, tone(f, d, -20)]);
  for (const pair of [[440, 480], [350, 440], [480, 620], [1400, 2060], [500, 1000], [600, 900]]) for (const d of [100, 300]) beeps.push([`${pair.join('+')} Hz ${d} ms`, tones(pair, d, -20)]);
  // Close pairs that beat (their level dips to a null every 1/Δf s).
  for (const [f, df] of [[440, 30], [1000, 45], [2470, 30]] as const) for (const d of [100, 200]) beeps.push([`${f}+${f + df} Hz ${d} ms`, tones([f, f + df], d, -20)]);
  beeps.push(['800/1200 Hz steps', concat(tone(800, 150, -20), tone(1200, 150, -20))], ['914/1371/1777 Hz steps', concat(tone(914, 100, -20), tone(1371, 100, -20), tone(1777, 100, -20))]);
  const out: RecallSweep = { cases: 0, found: 0, missed: [], latenciesMs: [] };
  let seed = 5000;
  for (const [name, beep] of beeps) {
    const endMs = 400 + beep.length / 8;
    for (const line of ['white12', 'white20', 'hum50', 'hum60'] as const) {
      const x = concat(silence(400), beep, silence(500));
      const durMs = x.length / 8;
      if (line === 'white12' || line === 'white20') add(x, noise(durMs, line === 'white12' ? -32 : -40, seed++));
      else add(x, hum(durMs, -32, line === 'hum50' ? 50 : 60, seed++ % 7));
      const d = make();
      const at: number[] = [];
      frames(viaMulaw(x), (f, start) => {
        if (d.process(f).beep) at.push((start + 160) / 8);
      });
      out.cases++;
      const t = at[0];
      if (at.length === 1 && t !== undefined && t >= endMs && t <= endMs + LATE_MS) {
        out.found++;
        out.latenciesMs.push(t - endMs);
      } else {
        out.missed.push(`${name} ${line}: ${JSON.stringify(at)}`);
      }
    }
  }
  return out;
}

const ALIGNMENTS_MS = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18];

/**
 * A recording whose beep ends at `endMs`, shifted by each of the ten alignments (leading zeros) and padded
 * with `padSamples` of silence after: the alignments at which a beep of `hz` (±10 Hz) was signalled within
 * 150 ms of its end, and every other signal (`+off ms: f Hz at t ms`).
 */
export function beepAtAlignments(make: () => { process(frame: Int16Array): { beep: boolean; frequencyHz: number } }, samples: Int16Array, endMs: number, hz: number, padSamples = 0): { found: number[]; other: string[] } {
  const found: number[] = [];
  const other: string[] = [];
  for (const off of ALIGNMENTS_MS) {
    const y = new Int16Array(samples.length + off * 8 + padSamples);
    y.set(samples, off * 8);
    const d = make();
    frames(y, (f, start) => {
      const r = d.process(f);
      if (!r.beep) return;
      const atMs = (start + 160) / 8 - off;
      if (atMs >= endMs && atMs <= endMs + LATE_MS && Math.abs(r.frequencyHz - hz) <= 10) found.push(off);
      else other.push(`+${off} ms: ${r.frequencyHz} Hz at ${atMs} ms`);
    });
  }
  return { found, other };
}

export interface AlignedRun {
  /** Beep signal times after the beep's end (ms), one list per case. */
  firesMs: number[][];
  labels: string[];
}

/**
 * Runs `beep` (its own noise added) at ten frame alignments between `before` and `after` (PCM at the beep's
 * scale), with `lineDbfs` white noise over the whole line and `gapMs` of it either side; returns every
 * signal's time relative to the beep's end. Through mu-law, seeded per case.
 */
function aligned(make: () => BeepProcessor, beep: Float64Array, label: string, lineDbfs: number, seed: number, out: AlignedRun, before: Float64Array = new Float64Array(0), after: Float64Array = new Float64Array(0), gapBeforeMs = 400, gapAfterMs = 500): void {
  for (const off of ALIGNMENTS_MS) {
    const x = concat(silence(off), before, silence(gapBeforeMs), beep, silence(gapAfterMs), after, silence(after.length > 0 ? 400 : 0));
    add(x, noise(x.length / 8, lineDbfs, seed + off));
    const endMs = off + before.length / 8 + gapBeforeMs + beep.length / 8;
    const d = make();
    const at: number[] = [];
    frames(viaMulaw(x), (f, start) => {
      if (d.process(f).beep) at.push((start + 160) / 8 - endMs);
    });
    out.firesMs.push(at);
    out.labels.push(`${label} +${off} ms`);
  }
}

/** Short single beeps (440/1000/1400 Hz, 70/100/150 ms, −20 dBFS) 6 dB over white noise, ten alignments each. */
export function shortNoisyBeeps(make: () => BeepProcessor): AlignedRun {
  const out: AlignedRun = { firesMs: [], labels: [] };
  let seed = 9100;
  for (const f of [440, 1000, 1400]) for (const d of [70, 100, 150]) aligned(make, tone(f, d, -20), `${f} Hz ${d} ms`, -26, (seed += 20), out);
  return out;
}

/**
 * Two-step beeps (1305 → 480 and 1000 → 800 Hz, 150 ms a step, −20 dBFS) 12 dB over white noise between
 * two stretches of real speech (`before` ends 400 ms before the beep, `after` starts 150 ms after it).
 */
export function twoStepBetweenSpeech(make: () => BeepProcessor, before: Float64Array, after: Float64Array): AlignedRun {
  const out: AlignedRun = { firesMs: [], labels: [] };
  let seed = 9700;
  for (const [a, b] of [[1305, 480], [1000, 800]] as const) {
    aligned(make, concat(tone(a, 150, -20), tone(b, 150, -20, 1)), `${a}/${b} Hz`, -32, (seed += 20), out, before, after, 400, 150);
  }
  return out;
}

/**
 * Dual beeps (the close pair 440 + 480 Hz, which beats at 40 Hz, and the resolved 950 + 1400 Hz) of 70, 100
 * and 150 ms, −20 dBFS in all, over white noise at `lineDbfs` between two stretches of real speech (`before`
 * ends 400 ms before the beep, `after` starts 200 ms after it), ten alignments each.
 */
export function dualBetweenSpeech(make: () => BeepProcessor, before: Float64Array, after: Float64Array, lineDbfs: number): AlignedRun {
  const out: AlignedRun = { firesMs: [], labels: [] };
  let seed = 9900;
  for (const pair of [[440, 480], [950, 1400]]) {
    // Both tones start in phase, as a generator starts them: the pair's beat starts at its crest.
    for (const d of [70, 100, 150]) aligned(make, add(tone(pair[0] as number, d, -23), tone(pair[1] as number, d, -23)), `${pair.join('+')} Hz ${d} ms`, lineDbfs, (seed += 20), out, before, after, 400, 200);
  }
  return out;
}

/**
 * The resolved dual beep 950 + 1400 Hz (in phase) of 100, 150 and 300 ms, −20 dBFS in all, over pink noise
 * `snrDb` under it (broadband RMS) on a line otherwise quiet, ten alignments each, through mu-law.
 */
export function resolvedDualInPink(make: () => BeepProcessor, snrDb: number): AlignedRun {
  const out: AlignedRun = { firesMs: [], labels: [] };
  let seed = 9300;
  for (const d of [100, 150, 300]) {
    const beep = add(tone(950, d, -23), tone(1400, d, -23));
    let e = 0;
    for (const v of beep) e += v * v;
    const sigma = Math.sqrt(e / beep.length) * 10 ** (-snrDb / 20);
    for (const off of ALIGNMENTS_MS) {
      const x = concat(silence(off + 400), beep, silence(500));
      const n = lineNoise(createRng((seed += 7)), 'pink', 8000, x.length);
      for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + sigma * (n[i] as number);
      const endMs = off + 400 + d;
      const det = make();
      const at: number[] = [];
      frames(viaMulaw(x), (f, start) => {
        if (det.process(f).beep) at.push((start + 160) / 8 - endMs);
      });
      out.firesMs.push(at);
      out.labels.push(`950+1400 Hz ${d} ms +${off} ms`);
    }
  }
  return out;
}

/** A 1 s 440 + 480 Hz beep (in phase, −20 dBFS in all) over white noise at `lineDbfs`, ten alignments. */
export function longPairInNoise(make: () => BeepProcessor, lineDbfs: number): AlignedRun {
  const out: AlignedRun = { firesMs: [], labels: [] };
  aligned(make, add(tone(440, 1000, -23), tone(480, 1000, -23)), '440+480 Hz 1000 ms', lineDbfs, 9500, out);
  return out;
}
