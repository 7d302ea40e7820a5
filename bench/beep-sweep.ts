// `node_modules/.bin/node bench/beep-sweep.ts [--kind single|two-step|dual|none] [--noise white|pink]
//     [--snr 6,9,12] [--ms 70,100] [-v] [--json]`
// Beep recall sweep on a line that carries real speech: synthetic beeps (single 440/1000/1400 Hz; two-step
// 1305 → 480 and 1000 → 800 Hz; dual 440 + 480 and 950 + 1400 Hz) of 70/100/150/300/1000 ms (a two-step
// beep's steps are each that long but 500 ms at most, so 140 ms–1 s in all), each preceded by the last
// 1.5 s of a corpus greeting's first utterance (400 ms before the beep) and followed by 1 s of another
// corpus voice (starting 200 ms after the beep's end), under white or pink noise 6, 9 and 12 dB under the
// beep (broadband RMS), through mu-law, at ten frame alignments (0–18 ms of leading line noise). Kind
// `none` is the same speech with no beep, five pairings per alignment (false fires only).
//
// A beep is found when signalled from its end to 150 ms after it (the issue's latency target); a fire
// anywhere else — in the speech, after the first step of a two-step beep, twice — is a false fire. Prints
// per kind, noise and SNR: found / cases, runs with a false fire, and the signal's delay after the beep's end
// (median, max). Deterministic: noise seeded per case, speech picked in a fixed rotation.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BeepDetector } from '../dsp/beep.ts';
import { FRAME_SAMPLES, SAMPLE_RATE_HZ } from '../dsp/frame.ts';
import { decodeMulawInto, encodeMulawInto } from '../dsp/mulaw.ts';
import { decodeWavTo8k } from '../dsp/wav.ts';
import type { ManifestEntry } from '../scripts/fixtures/build-amd-corpus.ts';
import { activeLevelDb, createRng, hashString, noise as lineNoise, rms, tone, type NoiseKind } from '../scripts/fixtures/signal.ts';
import { DEFAULT_FIXTURES_DIR } from './eval-amd.ts';

export type SweepKind = 'single' | 'two-step' | 'dual' | 'none';
export const SWEEP_KINDS: readonly SweepKind[] = ['single', 'two-step', 'dual', 'none'];
export const SWEEP_DURATIONS_MS: readonly number[] = [70, 100, 150, 300, 1000];
export const SWEEP_SNRS_DB: readonly number[] = [6, 9, 12];
export const SWEEP_NOISES: readonly NoiseKind[] = ['white', 'pink'];
const OFFSETS_MS = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18];
const LATE_MS = 150;
/** Beep level (its total RMS, dBFS re a full-scale sine); speech is set to the same active level. */
const BEEP_DBFS = -20;
const PRE_SPEECH_MS = 1500;
const GAP_BEFORE_MS = 400;
const GAP_AFTER_MS = 200;
const POST_SPEECH_MS = 1000;
const TAIL_MS = 600;
const MAX_STEP_MS = 500;

/** The tones of each kind: one list of simultaneous frequencies per step. */
const BEEPS: Record<Exclude<SweepKind, 'none'>, number[][][]> = {
  single: [[[440]], [[1000]], [[1400]]],
  'two-step': [[[1305], [480]], [[1000], [800]]],
  dual: [[[440, 480]], [[950, 1400]]],
};

export interface SweepCell {
  kind: SweepKind;
  noise: NoiseKind;
  snrDb: number;
  cases: number;
  found: number;
  /** Runs with a fire outside [end, end + 150 ms]. */
  falseFireRuns: number;
  delaysMs: number[];
  misses: string[];
}

export interface SweepOptions {
  kinds?: readonly SweepKind[];
  noises?: readonly NoiseKind[];
  snrsDb?: readonly number[];
  durationsMs?: readonly number[];
  make?: () => { process(frame: Int16Array): { beep: boolean } };
  /** Runs only the cases whose label (as printed for a miss) matches. */
  only?: RegExp;
}

interface Speech {
  name: string;
  pcm: Float64Array;
}

const samplesOf = (ms: number): number => Math.round((ms * SAMPLE_RATE_HZ) / 1000);
const amp = (dbfs: number): number => 10 ** (dbfs / 20);

/**
 * Speech pieces from the corpus's real (not espeak) greetings and answers on clean lines (a floor-only
 * noise or 30 dB SNR): each file's first utterance, one file per voice, sorted by name.
 */
async function loadSpeech(): Promise<Speech[]> {
  const manifest = JSON.parse(await readFile(join(DEFAULT_FIXTURES_DIR, 'amd', 'manifest.json'), 'utf8')) as { files: ManifestEntry[] };
  const byVoice = new Map<string, ManifestEntry>();
  const files = manifest.files
    .filter((e) => (e.truth === 'machine' || e.truth === 'human') && !e.synthetic && !e.voice.startsWith('espeak') && (e.snrDb === null || e.snrDb >= 30))
    .sort((a, b) => a.file.localeCompare(b.file));
  for (const e of files) {
    const u = e.utterances[0];
    if (!u || u[1] - u[0] < 800) continue;
    const had = byVoice.get(e.voice);
    // The longest first utterance of each voice.
    if (!had || u[1] - u[0] > ((had.utterances[0] as [number, number])[1] - (had.utterances[0] as [number, number])[0])) byVoice.set(e.voice, e);
  }
  const out: Speech[] = [];
  for (const [voice, e] of [...byVoice].sort((a, b) => a[0].localeCompare(b[0]))) {
    const pcm16 = decodeWavTo8k(new Uint8Array(await readFile(join(DEFAULT_FIXTURES_DIR, e.file))));
    const [s, t] = e.utterances[0] as [number, number];
    const x = new Float64Array(samplesOf(t - s));
    for (let i = 0; i < x.length; i++) x[i] = (pcm16[samplesOf(s) + i] ?? 0) / 32768;
    const level = activeLevelDb(x, SAMPLE_RATE_HZ);
    if (!Number.isFinite(level)) continue;
    // Active level = the beep's level (0 dBFS here is a full-scale sine's RMS, 1/√2).
    const g = amp(BEEP_DBFS) / Math.SQRT2 / 10 ** (level / 20);
    for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) * g;
    out.push({ name: voice, pcm: x });
  }
  return out;
}

function beepSignal(steps: number[][], stepMs: number): Float64Array {
  const parts = steps.map((freqs) => {
    // Each component at the level that puts the sum at BEEP_DBFS; 2 ms ramps (a generated beep's edges).
    const a = amp(BEEP_DBFS) / Math.sqrt(freqs.length);
    return tone(SAMPLE_RATE_HZ, freqs, freqs.map(() => a), samplesOf(stepMs), 2);
  });
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function beepSweep(opts: SweepOptions = {}): Promise<SweepCell[]> {
  const speech = await loadSpeech();
  if (speech.length < 2) throw new Error('beep-sweep: corpus speech not found');
  const make = opts.make ?? (() => new BeepDetector());
  const cells: SweepCell[] = [];
  const frame = new Int16Array(FRAME_SAMPLES);
  const mu = new Uint8Array(FRAME_SAMPLES);
  for (const kind of opts.kinds ?? SWEEP_KINDS) {
    const beeps = kind === 'none' ? [[]] : BEEPS[kind];
    // Without a beep, five speech pairings per alignment.
    const durations = kind === 'none' ? [1, 2, 3, 4, 5] : (opts.durationsMs ?? SWEEP_DURATIONS_MS);
    for (const noiseKind of opts.noises ?? SWEEP_NOISES) {
      for (const snrDb of opts.snrsDb ?? SWEEP_SNRS_DB) {
        const cell: SweepCell = { kind, noise: noiseKind, snrDb, cases: 0, found: 0, falseFireRuns: 0, delaysMs: [], misses: [] };
        cells.push(cell);
        for (const steps of beeps) {
          for (const d of durations) {
            const stepMs = kind === 'two-step' ? Math.min(d, MAX_STEP_MS) : d;
            const beep = steps.length > 0 ? beepSignal(steps, stepMs) : new Float64Array(0);
            for (const off of OFFSETS_MS) {
              // Seeds and speech picked from the case itself, so a filtered run repeats the full one's cases.
              const id = hashString(`${kind} ${noiseKind} ${snrDb} ${JSON.stringify(steps)} ${d} ${off}`);
              const pre = speech[id % speech.length] as Speech;
              const post = speech[(id + 1 + ((id >>> 8) % (speech.length - 1))) % speech.length] as Speech;
              const label = `${kind === 'none' ? `speech #${d}` : `${steps.map((f) => f.join('+')).join('/')} ${d} ms`} +${off} ms (${pre.name} | ${post.name})`;
              if (opts.only && !opts.only.test(`${kind} ${noiseKind} ${snrDb} dB: ${label}`)) continue;
              const preLen = Math.min(pre.pcm.length, samplesOf(PRE_SPEECH_MS));
              const lead = samplesOf(off) + samplesOf(200);
              const beepAt = lead + preLen + samplesOf(GAP_BEFORE_MS);
              const endAt = beepAt + beep.length;
              const postAt = endAt + samplesOf(GAP_AFTER_MS);
              const postLen = Math.min(post.pcm.length, samplesOf(POST_SPEECH_MS));
              const total = postAt + postLen + samplesOf(TAIL_MS);
              const x = new Float64Array(total);
              x.set(pre.pcm.subarray(pre.pcm.length - preLen), lead);
              x.set(beep, beepAt);
              x.set(post.pcm.subarray(0, postLen), postAt);
              const rng = createRng(id);
              const n = lineNoise(rng, noiseKind, SAMPLE_RATE_HZ, total);
              const beepRms = beep.length > 0 ? rms(beep, 0, beep.length) : amp(BEEP_DBFS) / Math.SQRT2;
              const g = beepRms * 10 ** (-snrDb / 20);
              for (let i = 0; i < total; i++) x[i] = (x[i] as number) + g * (n[i] as number);
              const d0 = make();
              const fires: number[] = [];
              for (let s = 0; s + FRAME_SAMPLES <= total; s += FRAME_SAMPLES) {
                for (let i = 0; i < FRAME_SAMPLES; i++) {
                  const v = Math.round((x[s + i] as number) * 32768);
                  frame[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
                }
                encodeMulawInto(frame, mu);
                decodeMulawInto(mu, frame);
                if (d0.process(frame).beep) fires.push(s + FRAME_SAMPLES);
              }
              cell.cases++;
              const inWindow = kind === 'none' ? [] : fires.filter((t) => t >= endAt && t <= endAt + samplesOf(LATE_MS));
              const first = inWindow[0];
              if (first !== undefined) {
                cell.found++;
                cell.delaysMs.push(((first - endAt) * 1000) / SAMPLE_RATE_HZ);
              }
              const stray = fires.length - (first !== undefined ? 1 : 0);
              if (stray > 0) cell.falseFireRuns++;
              if ((kind !== 'none' && first === undefined) || stray > 0) {
                const rel = fires.map((t) => Math.round(((t - endAt) * 1000) / SAMPLE_RATE_HZ));
                cell.misses.push(`${label}: fires ${JSON.stringify(rel)} ms after the end (${Math.round((endAt * 1000) / SAMPLE_RATE_HZ)} ms)`);
              }
            }
          }
        }
      }
    }
  }
  return cells;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1] as number;
}

export function sweepTable(cells: SweepCell[]): string {
  const lines = ['kind      noise  SNR  found        false-fire runs  delay median / max (ms)'];
  const row = (label: string, noiseKind: string, snr: string, cs: SweepCell[]): void => {
    const cases = cs.reduce((a, c) => a + c.cases, 0);
    const found = cs.reduce((a, c) => a + c.found, 0);
    const ff = cs.reduce((a, c) => a + c.falseFireRuns, 0);
    const delays = cs.flatMap((c) => c.delaysMs);
    const beep = cs.some((c) => c.kind !== 'none');
    const rec = beep ? `${found}/${cases}`.padEnd(12) : '—'.padEnd(12);
    const del = delays.length > 0 ? `${median(delays)} / ${Math.max(...delays)}` : '—';
    lines.push(`${label.padEnd(9)} ${noiseKind.padEnd(6)} ${snr.padStart(3)}  ${rec} ${`${ff}/${cases}`.padEnd(16)} ${del}`);
  };
  for (const c of cells) row(c.kind, c.noise, String(c.snrDb), [c]);
  const beeps = cells.filter((c) => c.kind !== 'none');
  if (beeps.length > 0) row('all beeps', '', '', beeps);
  return lines.join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      kind: { type: 'string' },
      noise: { type: 'string' },
      snr: { type: 'string' },
      ms: { type: 'string' },
      only: { type: 'string' },
      verbose: { type: 'boolean', short: 'v', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const list = (v: string | undefined): string[] | undefined => v?.split(',').map((s) => s.trim());
  const kinds = list(values.kind);
  for (const k of kinds ?? []) if (!SWEEP_KINDS.includes(k as SweepKind)) throw new Error(`--kind: unknown kind ${k}`);
  const noises = list(values.noise);
  for (const k of noises ?? []) if (!SWEEP_NOISES.includes(k as NoiseKind)) throw new Error(`--noise: unknown noise ${k}`);
  const cells = await beepSweep({
    ...(kinds ? { kinds: kinds as SweepKind[] } : {}),
    ...(noises ? { noises: noises as NoiseKind[] } : {}),
    ...(values.snr ? { snrsDb: (list(values.snr) as string[]).map(Number) } : {}),
    ...(values.ms ? { durationsMs: (list(values.ms) as string[]).map(Number) } : {}),
    ...(values.only ? { only: new RegExp(values.only) } : {}),
  });
  if (values.json) process.stdout.write(`${JSON.stringify(cells.map(({ misses, ...c }) => ({ ...c, misses: misses.length })))}\n`);
  else process.stdout.write(`${sweepTable(cells)}\n`);
  if (values.verbose) for (const c of cells) for (const m of c.misses) process.stdout.write(`  ${c.kind} ${c.noise} ${c.snrDb} dB: ${m}\n`);
}
