// `node bench/amd-features.ts [--perturb] [--features syllabicModulation,tilt]`
// How well each classifier feature (dsp/utterance.ts) separates the case AMD still gets wrong — an answer
// of 2 s or more followed by silence: a person who said a sentence and waits, or a greeting or
// announcement that ended without a beep — and how far it drifts when the audio changes the way other
// recordings and lines do (bench/perturb-amd.ts). A feature worth adding separates on both splits and
// stays put under the perturbations; one that says which recording chain a voice came through drifts.
//
// Per feature: the AUC of "machine" among those answers at their first pause checkpoint from 1.1 s (the
// one that decides them), on tune and on held-out (scored only; never used to choose). With --perturb,
// per perturbation: the mean absolute change of the feature in units of the model's scale
// (dsp/amdWeights.ts) and its AUC on both splits together. Runs the detector chain in collect mode.
import { parseArgs } from 'node:util';
import { analyseRecording } from '../dsp/analyse.ts';
import { AMD_MODEL } from '../dsp/amdWeights.ts';
import { FEATURE_NAMES, type FeatureName } from '../dsp/utterance.ts';
import type { AmdCheckpoint } from '../dsp/amd.ts';
import { loadCorpus } from './eval-amd.ts';
import { PERTURBATIONS } from './perturb-amd.ts';

/** The population: answers this long (s) at a pause checkpoint from this index on (1.1 s of silence). */
const MIN_SPEECH_S = 2;
const FIRST_CHECK = 1;

/** Collect mode: no checkpoint decides early, every one is reported. */
const COLLECT = { ...AMD_MODEL, humanBelow: AMD_MODEL.humanBelow.map(() => 0), machineAbove: AMD_MODEL.machineAbove.map(() => 1) };

/** The features at the deciding pause checkpoint of a long answer, or null when the recording has none. */
export function longAnswerFeatures(samples: Int16Array): number[] | null {
  let got: number[] | null = null;
  const onCheckpoint = (c: AmdCheckpoint): void => {
    if (got === null && c.kind === 'pause' && c.index >= FIRST_CHECK && (c.features[0] as number) >= MIN_SPEECH_S) got = Array.from(c.features);
  };
  analyseRecording(samples, { amd: { model: COLLECT, onCheckpoint, calibrated: false } });
  return got;
}

/** Area under the ROC curve of `pos` over `neg` (ties count half); 0.5 = no separation, 0 or 1 = full. */
export function auc(pos: number[], neg: number[]): number {
  if (pos.length === 0 || neg.length === 0) return NaN;
  let s = 0;
  for (const p of pos) for (const q of neg) s += p > q ? 1 : p === q ? 0.5 : 0;
  return s / (pos.length * neg.length);
}

interface Item {
  split: string;
  machine: boolean;
  samples: Int16Array;
  x: number[];
}

async function cli(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { perturb: { type: 'boolean', default: false }, features: { type: 'string' } } });
  const names = (values.features ? values.features.split(',') : [...FEATURE_NAMES]) as FeatureName[];
  const idx = names.map((n) => {
    const i = FEATURE_NAMES.indexOf(n);
    if (i < 0) throw new Error(`unknown feature ${n}; known: ${FEATURE_NAMES.join(', ')}`);
    return i;
  });
  const items: Item[] = [];
  for (const { entry, samples } of await loadCorpus()) {
    if (entry.truth !== 'human' && entry.truth !== 'machine') continue;
    const x = longAnswerFeatures(samples);
    if (x) items.push({ split: entry.split, machine: entry.truth === 'machine', samples, x });
  }
  const count = (split: string): string => `${items.filter((i) => i.split === split && i.machine).length} machines / ${items.filter((i) => i.split === split && !i.machine).length} people`;
  const out: string[] = [`Answers ≥ ${MIN_SPEECH_S} s at their first pause checkpoint from ${AMD_MODEL.pauseChecksMs[FIRST_CHECK]} ms: tune ${count('tune')}, held-out ${count('heldout')}`, ''];
  out.push(`${'feature'.padEnd(20)} ${'AUC tune'.padStart(9)} ${'held-out'.padStart(9)}`);
  const aucOf = (its: Item[], i: number, x: (it: Item) => number[] = (it) => it.x): number =>
    auc(
      its.filter((it) => it.machine).map((it) => x(it)[i] as number),
      its.filter((it) => !it.machine).map((it) => x(it)[i] as number),
    );
  for (const i of idx) {
    out.push(`${(FEATURE_NAMES[i] as string).padEnd(20)} ${aucOf(items.filter((it) => it.split === 'tune'), i).toFixed(2).padStart(9)} ${aucOf(items.filter((it) => it.split === 'heldout'), i).toFixed(2).padStart(9)}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (!values.perturb) return;
  process.stdout.write(`\nUnder perturbations (both splits): mean |Δ| in model-scale units / AUC\n${'perturbation'.padEnd(12)} ${idx.map((i) => (FEATURE_NAMES[i] as string).slice(0, 18).padStart(19)).join('')}\n`);
  process.stdout.write(`${'none'.padEnd(12)} ${idx.map((i) => `0.00 / ${aucOf(items, i).toFixed(2)}`.padStart(19)).join('')}\n`);
  for (const [name, perturb] of Object.entries(PERTURBATIONS)) {
    const moved = items.map((it, k) => longAnswerFeatures(perturb(it.samples, 1000 + k).samples));
    const kept = items.filter((_, k) => moved[k] !== null);
    const cols = idx.map((i) => {
      const scale = (AMD_MODEL.scale[i] ?? 1) > 0 ? (AMD_MODEL.scale[i] as number) : 1;
      let drift = 0;
      items.forEach((it, k) => {
        const m = moved[k];
        if (m) drift += Math.abs((m[i] as number) - (it.x[i] as number)) / scale;
      });
      const a = aucOf(kept, i, (it) => moved[items.indexOf(it)] as number[]);
      return `${(drift / Math.max(1, kept.length)).toFixed(2)} / ${a.toFixed(2)}`.padStart(19);
    });
    process.stdout.write(`${name.padEnd(12)} ${cols.join('')}\n`);
  }
}

if (import.meta.main) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`amd-features: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
