// CPU cost of the DSP path per 20 ms frame, per stage and chained, and the calls one core could
// carry (20 000 µs of audio per frame ÷ µs of CPU per frame). Runs on a corpus recording when the
// fixtures are present (speech, a beep, noise), else on a synthetic mix, so it works from a clean clone.
// `node bench/dsp.ts [--short] [--json]`
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { FRAME_SAMPLES, SAMPLE_RATE_HZ } from '../dsp/frame.ts';
import { decodeMulawInto, encodeMulaw } from '../dsp/mulaw.ts';
import { decodeWavTo8k } from '../dsp/wav.ts';
import { Vad } from '../dsp/vad.ts';
import { BeepDetector } from '../dsp/beep.ts';
import { DtmfDetector } from '../dsp/dtmf.ts';
import { FaxDetector } from '../dsp/fax.ts';
import { DetectorChain } from '../dsp/chain.ts';
import type { AmdOptions } from '../dsp/amd.ts';
import { UtteranceTracker } from '../dsp/utterance.ts';

export interface DspBenchRow {
  name: string;
  usPerFrame: number;
  callsPerCore: number;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const FRAME_US = (FRAME_SAMPLES / SAMPLE_RATE_HZ) * 1e6;

/** Test audio as 8 kHz mu-law: a corpus machine greeting with a beep, or a synthetic mix. */
function benchAudio(): Uint8Array {
  const corpus = resolve(HERE, '..', 'fixtures', 'amd', 'manifest.json');
  if (existsSync(corpus)) {
    const files = (JSON.parse(readFileSync(corpus, 'utf8')) as { files: { file: string; beepEndMs: number | null }[] }).files;
    const pick = files.filter((f) => f.beepEndMs !== null).slice(0, 3);
    const parts = pick.map((f) => decodeWavTo8k(new Uint8Array(readFileSync(join(HERE, '..', 'fixtures', f.file)))));
    if (parts.length > 0) {
      const all = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      return encodeMulaw(all);
    }
  }
  // Synthetic: 10 s of a gliding harmonic tone with noise and a 1 kHz beep every 2 s.
  const n = SAMPLE_RATE_HZ * 10;
  const x = new Int16Array(n);
  let seed = 1;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const noise = (seed / 2 ** 32 - 0.5) * 600;
    const t = i / SAMPLE_RATE_HZ;
    const f0 = 120 + 30 * Math.sin(2 * Math.PI * 0.7 * t);
    let v = 0;
    for (let h = 1; h <= 8; h++) v += (3000 / h) * Math.sin(2 * Math.PI * h * f0 * t);
    if (t % 2 > 1.6 && t % 2 < 1.9) v = 8000 * Math.sin(2 * Math.PI * 1000 * t);
    x[i] = Math.max(-32768, Math.min(32767, Math.round(v * Math.abs(Math.sin(Math.PI * 2.5 * t)) + noise)));
  }
  return encodeMulaw(x);
}

function measure(name: string, mulaw: Uint8Array, repeats: number, make: () => (pcm: Int16Array) => void): DspBenchRow {
  const frames = Math.floor(mulaw.length / FRAME_SAMPLES);
  const pcm = new Int16Array(FRAME_SAMPLES);
  const decoded: Int16Array[] = [];
  for (let f = 0; f < frames; f++) {
    const p = new Int16Array(FRAME_SAMPLES);
    decodeMulawInto(mulaw.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES), p);
    decoded.push(p);
  }
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const step = make();
    const t0 = performance.now();
    for (let f = 0; f < frames; f++) {
      pcm.set(decoded[f] as Int16Array);
      step(pcm);
    }
    const us = ((performance.now() - t0) * 1000) / frames;
    if (us < best) best = us;
  }
  return { name, usPerFrame: round(best), callsPerCore: Math.floor(FRAME_US / best) };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Each stage alone, then the chain a call runs. Best of several runs (least disturbed by other load). */
export function runDspBench(opts: { short: boolean }): DspBenchRow[] {
  const mulaw = benchAudio();
  const repeats = opts.short ? 3 : 10;
  const rows: DspBenchRow[] = [];
  // Decode alone: the frame copy the harness does plus a mu-law table lookup per sample.
  const frames = Math.floor(mulaw.length / FRAME_SAMPLES);
  const pcm = new Int16Array(FRAME_SAMPLES);
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    for (let f = 0; f < frames; f++) decodeMulawInto(mulaw.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES), pcm);
    best = Math.min(best, ((performance.now() - t0) * 1000) / frames);
  }
  rows.push({ name: 'decode (mu-law → PCM)', usPerFrame: round(best), callsPerCore: Math.floor(FRAME_US / best) });
  rows.push(measure('VAD', mulaw, repeats, () => { const d = new Vad(); return (p) => void d.process(p); }));
  rows.push(measure('beep (FFT 256, 10 ms hop)', mulaw, repeats, () => { const d = new BeepDetector(); return (p) => void d.process(p); }));
  rows.push(measure('DTMF (Goertzel ×8, 5 ms hop)', mulaw, repeats, () => { const d = new DtmfDetector(); return (p) => void d.process(p); }));
  rows.push(measure('fax (Goertzel ×3)', mulaw, repeats, () => { const d = new FaxDetector(); return (p) => void d.process(p); }));
  rows.push(
    measure('AMD prosody (pitch, tilt, level per frame)', mulaw, repeats, () => {
      const vad = new Vad();
      let t = new UtteranceTracker();
      return (p) => {
        // The tracker keeps 12 s; start afresh as a new call would.
        if (t.frameCount >= 600) t = new UtteranceTracker();
        t.push(vad.process(p), p);
      };
    }),
  );
  // The whole chain as a call runs it (decode included), with the classifier and, for comparison, with
  // the timing rules alone (no prosody, no classifier): the cost before issue 14.
  const wholeChain = (amd: AmdOptions) => () => {
    const chain = new DetectorChain({ amd, vad: true, beep: true, dtmfInband: true, fax: true }, () => undefined);
    const raw = new Int16Array(FRAME_SAMPLES);
    let f = 0;
    return () => {
      decodeMulawInto(mulaw.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES), raw);
      f++;
      chain.process(raw);
    };
  };
  rows.push(measure('chain: decode + all detectors + events', mulaw, repeats, wholeChain({ mode: 'message-end' })));
  rows.push(measure('chain, timing rules only (before)', mulaw, repeats, wholeChain({ mode: 'message-end', model: false })));
  return rows;
}

/**
 * In-band DTMF's CPU per frame ÷ the VAD's, as the median of passes run back to back (order swapped every
 * round), so that load from other work hits both sides of each ratio: best-of figures measured minutes
 * apart, as the table's, can differ by 2–7× on a shared machine.
 */
export function dtmfOverVad(opts: { short: boolean }): number {
  const mulaw = benchAudio();
  const ratios: number[] = [];
  const vad = (): ((p: Int16Array) => void) => {
    const d = new Vad();
    return (p) => void d.process(p);
  };
  const dtmf = (): ((p: Int16Array) => void) => {
    const d = new DtmfDetector();
    return (p) => void d.process(p);
  };
  for (let r = 0; r < (opts.short ? 15 : 25); r++) {
    const first = r % 2 === 0 ? measure('', mulaw, 1, vad) : measure('', mulaw, 1, dtmf);
    const second = r % 2 === 0 ? measure('', mulaw, 1, dtmf) : measure('', mulaw, 1, vad);
    const [v, d] = r % 2 === 0 ? [first, second] : [second, first];
    ratios.push(d.usPerFrame / v.usPerFrame);
  }
  ratios.sort((a, b) => a - b);
  return round(ratios[Math.floor(ratios.length / 2)] as number);
}

/** The per-frame budget of the whole detector chain (issue 14: today's cost, measured before the classifier). */
export const CHAIN_BUDGET_US = 17;

export function formatDspBench(rows: DspBenchRow[]): string {
  const w = Math.max(...rows.map((r) => r.name.length));
  const chain = rows.find((r) => r.name.startsWith('chain:'));
  const before = rows.find((r) => r.name.startsWith('chain, timing'));
  return [
    `${'stage'.padEnd(w)}  µs/frame  calls/core`,
    ...rows.map((r) => `${r.name.padEnd(w)}  ${r.usPerFrame.toFixed(2).padStart(8)}  ${String(r.callsPerCore).padStart(10)}`),
    ...(chain ? [`whole chain ${chain.usPerFrame.toFixed(2)} µs per 20 ms frame (budget ${CHAIN_BUDGET_US} µs: ${chain.usPerFrame <= CHAIN_BUDGET_US ? 'within' : 'OVER'}${before ? `; ${(chain.usPerFrame / before.usPerFrame).toFixed(2)}× the timing-rules chain in this run` : ''})`] : []),
  ].join('\n');
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const rows = runDspBench({ short: args.includes('--short') });
  process.stdout.write(args.includes('--json') ? `${JSON.stringify(rows)}\n` : `${formatDspBench(rows)}\n`);
}
