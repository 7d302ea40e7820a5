// The AMD classifier: logistic regression of "this answer is a machine" on the utterance features
// (dsp/utterance.ts, timing and prosody), evaluated at checkpoints (not per frame): when the answer
// has paused for 0.9, 1.3 and 1.8 s, and when it has run 2.4, 3.2, 4.0 s. At a pause checkpoint a
// probability under `humanBelow[k]` calls a person; at a speech checkpoint one over `machineAbove[k]`
// calls a machine; otherwise AMD keeps listening. The last pause checkpoint decides either way and
// speech reaching `maxSpeechMs` is a machine.
//
// Weights are trained on the tune split only by `node bench/train-amd.ts --write` (which rewrites
// dsp/amdWeights.ts); the script validates leave-one-source-out and prints each feature's ablation.
import { FEATURE_COUNT } from './utterance.ts';

export type CheckpointKind = 'pause' | 'speech';

export interface AmdModel {
  /** Feature names the weights follow (dsp/utterance.ts FEATURE_NAMES). */
  features: readonly string[];
  /** Standardisation: (x − mean) / scale, clipped to ±4. */
  mean: readonly number[];
  scale: readonly number[];
  /**
   * One weight vector and bias per kind of checkpoint: at a pause the question is "will this voice
   * go on talking (a greeting) or wait for us (a person)", at a long utterance "is this read out".
   */
  weights: Readonly<Record<CheckpointKind, readonly number[]>>;
  bias: Readonly<Record<CheckpointKind, number>>;
  /**
   * Pause checkpoints (ms of silence after the answer's last speech) and the probability under which
   * each calls a person. The first applies only to a short answer said once (see shortAnswerMs).
   */
  pauseChecksMs: readonly number[];
  /**
   * How much silence a person's verdict needs depends on what was said. An answer of one stretch
   * shorter than `shortAnswerMs` ("Hello?") may be called a person from the first pause checkpoint on.
   * One stretch from `shortAnswerMs` to `pauseBandMs` is where greetings pause (about a second after
   * an opening of 1.2–1.4 s, then go on): it waits from checkpoint `bandFirstCheck` on. Anything else
   * (a longer stretch, an answer that already resumed after a pause) from checkpoint 1 on, past the
   * gap before a greeting's beep (≤ ~1 s).
   */
  shortAnswerMs: number;
  pauseBandMs: number;
  bandFirstCheck: number;
  humanBelow: readonly number[];
  /** Speech checkpoints (ms of utterance) and the probability over which each calls a machine. */
  speechChecksMs: readonly number[];
  machineAbove: readonly number[];
  /** Speech this long is a machine whatever the model says. */
  maxSpeechMs: number;
  /** How the weights were made (printed by the CLI and the evaluation). */
  trainedOn: string;
}

const CLIP = 4;

/** Standardised feature i of `x` under `model`. */
export function standardised(model: AmdModel, x: ArrayLike<number>, i: number): number {
  const s = model.scale[i] ?? 1;
  const z = ((x[i] as number) - (model.mean[i] ?? 0)) / (s > 0 ? s : 1);
  return z > CLIP ? CLIP : z < -CLIP ? -CLIP : z;
}

/** The model's margin w·z + b (log-odds of machine). */
export function machineLogit(model: AmdModel, kind: CheckpointKind, x: ArrayLike<number>): number {
  const w = model.weights[kind];
  let t = model.bias[kind];
  for (let i = 0; i < FEATURE_COUNT; i++) t += (w[i] ?? 0) * standardised(model, x, i);
  return t;
}

export function machineProbability(model: AmdModel, kind: CheckpointKind, x: ArrayLike<number>): number {
  return 1 / (1 + Math.exp(-machineLogit(model, kind, x)));
}

/** The features that pushed this decision most (for the verdict's reason), strongest first. */
export function strongestFeatures(model: AmdModel, kind: CheckpointKind, x: ArrayLike<number>, towardMachine: boolean, n = 2): string {
  const contrib: [string, number][] = [];
  for (let i = 0; i < FEATURE_COUNT; i++) {
    const c = (model.weights[kind][i] ?? 0) * standardised(model, x, i);
    if (towardMachine ? c > 0 : c < 0) contrib.push([model.features[i] ?? `f${i}`, Math.abs(c)]);
  }
  contrib.sort((p, q) => q[1] - p[1]);
  return contrib
    .slice(0, n)
    .map(([name]) => name)
    .join(', ');
}

export function validateModel(model: AmdModel): void {
  const n = FEATURE_COUNT;
  if (model.features.length !== n || model.mean.length !== n || model.scale.length !== n || model.weights.pause.length !== n || model.weights.speech.length !== n) {
    throw new RangeError(`AMD model must have ${n} features, means, scales and weights`);
  }
  if (model.pauseChecksMs.length === 0 || model.pauseChecksMs.length !== model.humanBelow.length) {
    throw new RangeError('AMD model needs one humanBelow per pause checkpoint');
  }
  if (!(model.shortAnswerMs > 0 && model.pauseBandMs >= model.shortAnswerMs)) throw new RangeError('AMD model needs 0 < shortAnswerMs ≤ pauseBandMs');
  if (!(model.bandFirstCheck >= 0 && model.bandFirstCheck < model.pauseChecksMs.length)) throw new RangeError('AMD model bandFirstCheck must index a pause checkpoint');
  if (model.speechChecksMs.length !== model.machineAbove.length) throw new RangeError('AMD model needs one machineAbove per speech checkpoint');
}
