// In-band DTMF in a worker's regime: 300 detectors (one per call) fed the bench callers' audio frame k of
// every call, then frame k+1, so each detector's state is out of the caches as at 300 calls a worker. With
// `--b-root dir`, the same with another checkout's detector, alternated round by round in this process:
// a paired before/after. `node bench/lib/dtmfMicro.ts [--b-root dir] [--rounds 3]`
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { FRAME_SAMPLES } from '../../dsp/frame.ts';
import { DtmfDetector } from '../../dsp/dtmf.ts';
import { callerAudio } from './callerAudio.ts';

type Detector = { process(frame: Int16Array): { digit: string } };
const { values } = parseArgs({ options: { 'b-root': { type: 'string' }, rounds: { type: 'string' }, calls: { type: 'string' } } });
const calls = Number(values.calls ?? 300);
const rounds = Number(values.rounds ?? 3);
const pcm = callerAudio(20_000).samples;
const frames = Math.floor(pcm.length / FRAME_SAMPLES);
const sides: Array<{ name: string; make: () => Detector }> = [{ name: 'A (this tree)', make: () => new DtmfDetector() }];
const bRoot = values['b-root'];
if (bRoot !== undefined) {
  const mod = (await import(pathToFileURL(path.resolve(bRoot, 'dsp/dtmf.ts')).href)) as { DtmfDetector: new () => Detector };
  sides.push({ name: `B (${bRoot})`, make: () => new mod.DtmfDetector() });
}

/** CPU µs per frame over `n` frames of every call (each call starts at its own point of the audio). */
function run(detectors: Detector[], n: number): number {
  const frame = new Int16Array(FRAME_SAMPLES);
  const c0 = process.cpuUsage();
  for (let k = 0; k < n; k++) {
    for (let c = 0; c < detectors.length; c++) {
      const f = (k + c * 7) % frames;
      frame.set(pcm.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES));
      (detectors[c] as Detector).process(frame);
    }
  }
  const u = process.cpuUsage(c0);
  return (u.user + u.system) / (n * detectors.length);
}

const sets = sides.map((s) => Array.from({ length: calls }, () => s.make()));
for (const set of sets) run(set, 200);
const figures = sides.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) sets.forEach((set, i) => figures[i]?.push(run(set, 1500)));
sides.forEach((s, i) => process.stdout.write(`${s.name}: ${(figures[i] ?? []).map((x) => x.toFixed(3)).join(', ')} µs per frame\n`));
if (sides.length === 2) process.stdout.write(`A÷B per round: ${(figures[0] ?? []).map((a, r) => (a / ((figures[1] ?? [])[r] ?? Number.NaN)).toFixed(3)).join(', ')}\n`);
