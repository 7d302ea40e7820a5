// `node bench/perturb-amd.ts [--split heldout] [--only gain-20,lp3000] [--json]`
// How fragile is AMD to what an independent corpus changes? Each corpus file is perturbed the way other
// recordings and other lines differ from ours — level (−30 … +6 dB, clipping), a few ms of offset (frames
// no longer aligned with the recording), line noise, a narrower or thinner band (a 3 kHz low-pass as in
// wideband-to-narrowband chains, a 300 Hz high-pass as on old lines), an A-law re-encoding, and a faster
// or slower talker (±8% tempo) — then run through the same detector chain. Per perturbation and split:
// the figures and how many verdicts flipped against the unperturbed run. A feature that carries
// the verdict only on our recordings shows up here as flips.
import { parseArgs } from 'node:util';
import { analyseRecording } from '../dsp/analyse.ts';
import { resample } from '../dsp/resample.ts';
import { createRng, gauss } from '../scripts/fixtures/signal.ts';
import { beepWrong, evaluateOutcomes, judge, loadCorpus, type FileOutcome, type ManifestEntry, type Split } from './eval-amd.ts';

interface Perturbed {
  samples: Int16Array;
  /** Maps a labelled time of the original (ms) to the perturbed recording. */
  time: (ms: number) => number;
}

type Perturbation = (x: Int16Array, seed: number) => Perturbed;

const same = (ms: number): number => ms;

function clip16(v: number): number {
  return v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v);
}

function gain(db: number): Perturbation {
  const g = 10 ** (db / 20);
  return (x) => ({ samples: Int16Array.from(x, (v) => clip16(v * g)), time: same });
}

/** Leading line silence (a little noise, not digital zero) of `ms`, so frames fall elsewhere. */
function offset(ms: number): Perturbation {
  return (x, seed) => {
    const n = Math.round(ms * 8);
    const rng = createRng(seed);
    const out = new Int16Array(x.length + n);
    for (let i = 0; i < n; i++) out[i] = clip16(gauss(rng) * 3);
    out.set(x, n);
    return { samples: out, time: (t) => t + ms };
  };
}

/** White noise at `dbfs` (RMS re a full-scale sine) added over the whole recording. */
function whiteNoise(dbfs: number): Perturbation {
  const sigma = (32767 * 10 ** (dbfs / 20)) / Math.SQRT2;
  return (x, seed) => {
    const rng = createRng(seed);
    return { samples: Int16Array.from(x, (v) => clip16(v + sigma * gauss(rng))), time: same };
  };
}

/** Two cascaded RBJ biquads (4th order, Butterworth-ish Q 0.707): kind 'lp' or 'hp' at `hz`. */
function filter(kind: 'lp' | 'hp', hz: number): Perturbation {
  const w = (2 * Math.PI * hz) / 8000;
  const alpha = Math.sin(w) / (2 * Math.SQRT1_2);
  const c = Math.cos(w);
  const b0 = kind === 'lp' ? (1 - c) / 2 : (1 + c) / 2;
  const b1 = kind === 'lp' ? 1 - c : -(1 + c);
  const a0 = 1 + alpha;
  const k = [b0 / a0, b1 / a0, b0 / a0, (-2 * c) / a0, (1 - alpha) / a0] as const;
  return (x) => {
    let y = Float64Array.from(x);
    for (let pass = 0; pass < 2; pass++) {
      const out = new Float64Array(y.length);
      let x1 = 0;
      let x2 = 0;
      let y1 = 0;
      let y2 = 0;
      for (let i = 0; i < y.length; i++) {
        const xi = y[i] as number;
        const yi = k[0] * xi + k[1] * x1 + k[2] * x2 - k[3] * y1 - k[4] * y2;
        out[i] = yi;
        x2 = x1;
        x1 = xi;
        y2 = y1;
        y1 = yi;
      }
      y = out;
    }
    return { samples: Int16Array.from(y, clip16), time: same };
  };
}

/** G.711 A-law round trip (13-bit segments), as a line through a European carrier re-encodes it. */
function alawRoundTrip(): Perturbation {
  const quant = (v: number): number => {
    const sign = v < 0 ? -1 : 1;
    const m = Math.min(32767, Math.abs(v)) >> 3; // 13-bit magnitude
    if (m < 32) return sign * (((m >> 1) << 1) + 1) * 8;
    let seg = 1;
    while (m >> (seg + 4) > 1 && seg < 7) seg++;
    const step = 1 << seg;
    return sign * (Math.floor(m / step) * step + step / 2) * 8;
  };
  return (x) => ({ samples: Int16Array.from(x, quant), time: same });
}

/** A faster (factor < 1) or slower talker: the recording resampled, pitch and tempo together. */
function tempo(factor: number): Perturbation {
  return (x) => ({ samples: resample(x, 8000, Math.round(8000 * factor)), time: (t) => t * factor });
}

export const PERTURBATIONS: Record<string, Perturbation> = {
  'gain-30': gain(-30),
  'gain-20': gain(-20),
  'gain-10': gain(-10),
  'gain+6': gain(6),
  'offset7': offset(7),
  'offset13': offset(13),
  'noise-50': whiteNoise(-50),
  'noise-40': whiteNoise(-40),
  lp3000: filter('lp', 3000),
  hp300: filter('hp', 300),
  alaw: alawRoundTrip(),
  'tempo0.92': tempo(0.92),
  'tempo1.08': tempo(1.08),
};

function shifted(entry: ManifestEntry, time: (ms: number) => number): ManifestEntry {
  const t = (v: number | null): number | null => (v === null ? null : Math.round(time(v)));
  return { ...entry, beepEndMs: t(entry.beepEndMs), firstUtteranceEndMs: t(entry.firstUtteranceEndMs) };
}

export interface PerturbationRow {
  name: string;
  split: Split;
  accuracy: number | null;
  humansCalledMachine: number | null;
  machinesCalledHuman: number | null;
  beepRecall: number | null;
  falseBeeps: number | null;
  /** Human/machine files whose verdict differs from the unperturbed run, and which way. */
  flipsToMachine: number;
  flipsToHuman: number;
  flipsOther: number;
  /** Each flipped file: `file: before → after (reason after)`. */
  flips: string[];
  peopleCalledMachines: string[];
  /** Beeps missed or signalled where none was (file: labelled end, signalled). */
  beepErrors: string[];
}

export async function perturbationTable(names: string[], splits: Split[]): Promise<{ rows: PerturbationRow[]; baseline: FileOutcome[] }> {
  const corpus = (await loadCorpus()).filter((c) => splits.includes(c.entry.split));
  const baseline = corpus.map((c) => judge(c.entry, analyseRecording(c.samples)));
  const baseBeep = new Map(baseline.map((o) => [o.file, o.beepMs]));
  const rows: PerturbationRow[] = [];
  const run = (name: string, outcomes: FileOutcome[]): void => {
    for (const split of splits) {
      const f = evaluateOutcomes(outcomes, split);
      let toM = 0;
      let toH = 0;
      let other = 0;
      const flips: string[] = [];
      outcomes.forEach((o, i) => {
        const b = baseline[i] as FileOutcome;
        if (o.split !== split || (o.truth !== 'human' && o.truth !== 'machine') || o.result === b.result) return;
        flips.push(`${o.file}: ${b.result} → ${o.result} (${o.reason})`);
        if (o.result === 'machine') toM++;
        else if (o.result === 'human') toH++;
        else other++;
      });
      rows.push({
        name,
        split,
        accuracy: f.humanMachineAccuracy,
        humansCalledMachine: f.humansCalledMachine,
        machinesCalledHuman: f.machinesCalledHuman,
        beepRecall: f.beepRecall,
        falseBeeps: f.falseBeeps,
        flipsToMachine: toM,
        flipsToHuman: toH,
        flipsOther: other,
        flips,
        peopleCalledMachines: outcomes.filter((o) => o.split === split && o.truth === 'human' && o.result === 'machine').map((o) => `${o.file} (${o.reason})`),
        beepErrors: outcomes
          .filter((o) => o.split === split && beepWrong(o))
          .map((o) => `${o.file}: labelled end ${o.beepEndMs ?? '-'}, signalled ${o.beepMs ?? '-'} (unperturbed ${baseBeep.get(o.file) ?? '-'})`),
      });
    }
  };
  run('none', baseline);
  for (const name of names) {
    const p = PERTURBATIONS[name];
    if (!p) throw new Error(`unknown perturbation ${name}; known: ${Object.keys(PERTURBATIONS).join(', ')}`);
    const outcomes = corpus.map((c, i) => {
      const { samples, time } = p(c.samples, 1000 + i);
      return judge(shifted(c.entry, time), analyseRecording(samples));
    });
    run(name, outcomes);
  }
  return { rows, baseline };
}

function pct(x: number | null): string {
  return x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`;
}

async function cli(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { split: { type: 'string', multiple: true }, only: { type: 'string' }, json: { type: 'boolean', default: false }, verbose: { type: 'boolean', short: 'v', default: false } },
  });
  const splits = (values.split ?? ['tune', 'heldout']).map((s) => {
    if (s !== 'tune' && s !== 'heldout') throw new Error(`--split must be tune or heldout, got ${s}`);
    return s;
  });
  const names = values.only ? values.only.split(',') : Object.keys(PERTURBATIONS);
  const { rows } = await perturbationTable(names, splits);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  const head = ['perturbation', 'split', 'H/M acc', 'H→M', 'M→H', 'beep recall', 'false beeps', 'flips →M / →H / other'];
  const table = [head, ...rows.map((r) => [r.name, r.split, pct(r.accuracy), pct(r.humansCalledMachine), pct(r.machinesCalledHuman), pct(r.beepRecall), pct(r.falseBeeps), `${r.flipsToMachine} / ${r.flipsToHuman} / ${r.flipsOther}`])];
  const widths = head.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  process.stdout.write(`${table.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')).join('\n')}\n`);
  if (values.verbose) {
    for (const r of rows) {
      for (const p of r.peopleCalledMachines) process.stdout.write(`  ${r.name} [${r.split}] person called machine: ${p}\n`);
      for (const b of r.beepErrors) process.stdout.write(`  ${r.name} [${r.split}] beep: ${b}\n`);
      for (const f of r.flips) process.stdout.write(`  ${r.name} [${r.split}] flipped: ${f}\n`);
    }
  }
}

if (import.meta.main) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`perturb-amd: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
