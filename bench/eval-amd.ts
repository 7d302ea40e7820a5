// `npm run eval:amd [-- --json] [--split tune|heldout] [--mode fast|message-end] [--verbose]`
// Runs AMD over the labelled corpus (fixtures/amd/manifest.json) and prints, per split, the figures
// the issue asks for: human/machine accuracy, humans called machine, machines called human, fax and
// dead-air accuracy, beep recall, false beeps, median verdict times and beep signal latency.
// Tuning uses the `tune` split only; `heldout` is reported separately and never tuned on.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeWavTo8k } from '../dsp/wav.ts';
import { analyseRecording, type AnalysisResult } from '../dsp/analyse.ts';
import type { AmdMode, AmdOptions } from '../dsp/amd.ts';

import type { ManifestEntry as CorpusEntry, Split, Truth } from '../scripts/fixtures/build-amd-corpus.ts';

export type { Split, Truth };

/** What the evaluation reads of a manifest entry (the corpus builder writes more). */
export type ManifestEntry = Pick<CorpusEntry, 'file' | 'truth' | 'split' | 'beepEndMs' | 'beepHz' | 'firstUtteranceEndMs' | 'group' | 'voice'>;

export interface FileOutcome {
  file: string;
  /** The voice it comes from (see sourceOf): the unit of the by-source table and of cross-validation. */
  source: string;
  truth: Truth;
  split: Split;
  result: AnalysisResult['result'];
  answeredBy: AnalysisResult['answeredBy'];
  confidence: number;
  decisionMs: number | null;
  beepMs: number | null;
  beepEndMs: number | null;
  firstUtteranceEndMs: number | null;
  dtmfDigits: string;
  reason: string;
  /** Verdict as the truth expects (human/dtmf→human, machine→machine, fax→fax, silence→unknown). */
  correct: boolean;
  /** The verdict as it stands after an amd.revised within the recording (= result when none). */
  revisedResult: AnalysisResult['result'];
}

export interface SplitFigures {
  split: Split;
  files: number;
  humans: number;
  machines: number;
  /** Human/machine accuracy over human + machine files. */
  humanMachineAccuracy: number | null;
  humansCalledMachine: number | null;
  machinesCalledHuman: number | null;
  /** Human or machine files left at `unknown`. */
  humanMachineUnknown: number | null;
  /** The same two figures with the verdict as it stands after revisions (a late beep, a key press). */
  humanMachineAccuracyRevised: number | null;
  humansCalledMachineRevised: number | null;
  faxAccuracy: number | null;
  deadAirAccuracy: number | null;
  /** DTMF files whose key was heard in-band. */
  dtmfDetected: number | null;
  beepFiles: number;
  beepRecall: number | null;
  /** Files without a beep where a beep was signalled, plus beep files with a beep signalled at the wrong time. */
  falseBeeps: number | null;
  medianHumanVerdictMs: number | null;
  medianHumanVerdictAfterUtteranceMs: number | null;
  medianMachineVerdictMs: number | null;
  medianBeepLatencyMs: number | null;
  errors: { file: string; truth: Truth; result: string; reason: string }[];
  /** Reliability table: human/machine files with a human/machine verdict, by predicted confidence. */
  reliability: ReliabilityBin[];
}

export interface ReliabilityBin {
  lo: number;
  hi: number;
  files: number;
  meanConfidence: number | null;
  accuracy: number | null;
}

/** Confidence bin edges of the reliability table. */
export const RELIABILITY_EDGES = [0.5, 0.7, 0.8, 0.9, 0.95, 1.0001];

export function reliability(outcomes: FileOutcome[]): ReliabilityBin[] {
  const decided = outcomes.filter((o) => (o.truth === 'human' || o.truth === 'machine') && (o.result === 'human' || o.result === 'machine'));
  const bins: ReliabilityBin[] = [];
  for (let i = 0; i + 1 < RELIABILITY_EDGES.length; i++) {
    const lo = RELIABILITY_EDGES[i] as number;
    const hi = RELIABILITY_EDGES[i + 1] as number;
    const inBin = decided.filter((o) => o.confidence >= lo && o.confidence < hi);
    bins.push({
      lo,
      hi: Math.min(hi, 1),
      files: inBin.length,
      meanConfidence: inBin.length ? inBin.reduce((a, o) => a + o.confidence, 0) / inBin.length : null,
      accuracy: share(inBin.filter((o) => o.correct).length, inBin.length),
    });
  }
  return bins;
}

export interface EvalReport {
  mode: AmdMode;
  options: AmdOptions;
  splits: SplitFigures[];
  outcomes: FileOutcome[];
}

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_FIXTURES_DIR = resolve(HERE, '..', 'fixtures');

/** A beep counts as found when signalled from 100 ms before to 1 s after its labelled end. */
const BEEP_EARLY_MS = 100;
const BEEP_LATE_MS = 1000;

export async function loadManifest(fixturesDir = DEFAULT_FIXTURES_DIR): Promise<ManifestEntry[]> {
  const raw = JSON.parse(await readFile(join(fixturesDir, 'amd', 'manifest.json'), 'utf8')) as { files: ManifestEntry[] };
  return raw.files;
}

/** Decoded corpus, cached by the caller when evaluating many parameter sets. */
export async function loadCorpus(fixturesDir = DEFAULT_FIXTURES_DIR): Promise<{ entry: ManifestEntry; samples: Int16Array }[]> {
  const entries = await loadManifest(fixturesDir);
  return Promise.all(
    entries.map(async (entry) => ({ entry, samples: decodeWavTo8k(new Uint8Array(await readFile(join(fixturesDir, entry.file)))) })),
  );
}

export function judge(entry: ManifestEntry, r: AnalysisResult): FileOutcome {
  const expected = entry.truth === 'dtmf' ? 'human' : entry.truth === 'silence' ? 'unknown' : entry.truth;
  const digits = r.events.flatMap((e) => (e.type === 'dtmf' ? [e.digit] : [])).join('');
  return {
    file: entry.file,
    source: sourceOf(entry),
    truth: entry.truth,
    split: entry.split,
    result: r.result,
    answeredBy: r.answeredBy,
    confidence: r.confidence,
    decisionMs: r.decisionMs,
    beepMs: r.beepMs,
    beepEndMs: entry.beepEndMs,
    firstUtteranceEndMs: entry.firstUtteranceEndMs,
    dtmfDigits: digits,
    reason: r.reason,
    correct: r.result === expected,
    revisedResult: r.events.reduce<AnalysisResult['result']>((v, e) => (e.type === 'amd.revised' ? e.result : v), r.result),
  };
}

/** The voice a recording comes from (a group is `voice:clip`; espeak voices are `espeak:voice:text`). */
export function sourceOf(entry: Pick<ManifestEntry, 'group' | 'voice'>): string {
  if (entry.voice) return entry.voice;
  const parts = entry.group.split(':');
  return parts[0] === 'espeak' ? `espeak:${parts[1] ?? ''}` : (parts[0] ?? entry.group);
}

const VERDICTS = ['human', 'machine', 'fax', 'unknown'] as const;
const TRUTHS: Truth[] = ['human', 'machine', 'fax', 'silence', 'dtmf'];

/** Confusion matrix of one split: truth rows × verdict columns. */
export function confusion(outcomes: FileOutcome[], split: Split): string[] {
  const all = outcomes.filter((o) => o.split === split);
  const lines = [`  ${split.padEnd(8)} ${'truth \\ verdict'.padEnd(16)}${VERDICTS.map((v) => v.padStart(9)).join('')}`];
  for (const t of TRUTHS) {
    const rows = all.filter((o) => o.truth === t);
    if (rows.length === 0) continue;
    lines.push(`  ${''.padEnd(8)} ${t.padEnd(16)}${VERDICTS.map((v) => String(rows.filter((o) => o.result === v).length).padStart(9)).join('')}`);
  }
  return lines;
}

/** Human/machine accuracy and people called machines per source (voice), per split. */
export function bySource(outcomes: FileOutcome[]): string[] {
  const hm = outcomes.filter((o) => o.truth === 'human' || o.truth === 'machine');
  const keys = [...new Set(hm.map((o) => `${o.split}\t${o.source}`))].sort();
  const lines = [`  ${'split'.padEnd(8)} ${'source'.padEnd(22)} ${'files'.padStart(5)} ${'H/M'.padStart(7)} ${'accuracy'.padStart(9)} ${'H→M'.padStart(4)} ${'M→H'.padStart(4)}`];
  for (const k of keys) {
    const [split, source] = k.split('\t') as [string, string];
    const rows = hm.filter((o) => o.split === split && o.source === source);
    const humans = rows.filter((o) => o.truth === 'human');
    const right = rows.filter((o) => o.correct).length;
    lines.push(
      `  ${split.padEnd(8)} ${source.padEnd(22)} ${String(rows.length).padStart(5)} ${`${humans.length}/${rows.length - humans.length}`.padStart(7)} ${pct(right / rows.length).padStart(9)} ${String(humans.filter((o) => o.result === 'machine').length).padStart(4)} ${String(rows.filter((o) => o.truth === 'machine' && o.result === 'human').length).padStart(4)}`,
    );
  }
  return lines;
}

export function evaluateOutcomes(outcomes: FileOutcome[], split: Split): SplitFigures {
  const all = outcomes.filter((o) => o.split === split);
  const humans = all.filter((o) => o.truth === 'human');
  const machines = all.filter((o) => o.truth === 'machine');
  const fax = all.filter((o) => o.truth === 'fax');
  const dead = all.filter((o) => o.truth === 'silence');
  const dtmf = all.filter((o) => o.truth === 'dtmf');
  const hm = [...humans, ...machines];
  const beepFiles = all.filter((o) => o.beepEndMs !== null);
  const found = beepFiles.filter((o) => beepFound(o));
  const falseBeeps =
    all.filter((o) => o.beepEndMs === null && o.beepMs !== null).length + beepFiles.filter((o) => o.beepMs !== null && !beepFound(o)).length;
  const humanVerdicts = humans.filter((o) => o.result === 'human' && o.decisionMs !== null);
  return {
    split,
    files: all.length,
    humans: humans.length,
    machines: machines.length,
    humanMachineAccuracy: share(hm.filter((o) => o.correct).length, hm.length),
    humansCalledMachine: share(humans.filter((o) => o.result === 'machine').length, humans.length),
    machinesCalledHuman: share(machines.filter((o) => o.result === 'human').length, machines.length),
    humanMachineUnknown: share(hm.filter((o) => o.result === 'unknown').length, hm.length),
    humanMachineAccuracyRevised: share(hm.filter((o) => o.revisedResult === o.truth).length, hm.length),
    humansCalledMachineRevised: share(humans.filter((o) => o.revisedResult === 'machine').length, humans.length),
    faxAccuracy: share(fax.filter((o) => o.correct).length, fax.length),
    deadAirAccuracy: share(dead.filter((o) => o.correct).length, dead.length),
    dtmfDetected: share(dtmf.filter((o) => o.dtmfDigits.length > 0).length, dtmf.length),
    beepFiles: beepFiles.length,
    beepRecall: share(found.length, beepFiles.length),
    falseBeeps: share(falseBeeps, all.length),
    medianHumanVerdictMs: median(humanVerdicts.map((o) => o.decisionMs as number)),
    medianHumanVerdictAfterUtteranceMs: median(
      humanVerdicts.filter((o) => o.firstUtteranceEndMs !== null).map((o) => (o.decisionMs as number) - (o.firstUtteranceEndMs as number)),
    ),
    medianMachineVerdictMs: median(machines.filter((o) => o.result === 'machine' && o.decisionMs !== null).map((o) => o.decisionMs as number)),
    medianBeepLatencyMs: median(found.map((o) => (o.beepMs as number) - (o.beepEndMs as number))),
    errors: all.filter((o) => !o.correct).map((o) => ({ file: o.file, truth: o.truth, result: o.result, reason: o.reason })),
    reliability: reliability(all),
  };
}

/** A labelled beep not found, or a beep signalled where none was or at the wrong time. */
export function beepWrong(o: Pick<FileOutcome, 'beepEndMs' | 'beepMs'>): boolean {
  return o.beepEndMs !== null ? !beepFound(o) : o.beepMs !== null;
}

function beepFound(o: Pick<FileOutcome, 'beepEndMs' | 'beepMs'>): boolean {
  if (o.beepEndMs === null || o.beepMs === null) return false;
  const d = o.beepMs - o.beepEndMs;
  return d >= -BEEP_EARLY_MS && d <= BEEP_LATE_MS;
}

function share(n: number, of: number): number | null {
  return of > 0 ? n / of : null;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export interface EvaluateOptions {
  fixturesDir?: string;
  mode?: AmdMode;
  amd?: AmdOptions;
  splits?: Split[];
  /** Pre-decoded corpus (see loadCorpus), to evaluate many parameter sets without re-reading files. */
  corpus?: { entry: ManifestEntry; samples: Int16Array }[];
}

/** The evaluation as a function, for the benchmark runner and for tuning scripts. */
export async function evaluateAmd(opts: EvaluateOptions = {}): Promise<EvalReport> {
  const mode = opts.mode ?? 'message-end';
  const amd: AmdOptions = { ...opts.amd, mode };
  const splits = opts.splits ?? ['tune', 'heldout'];
  const corpus = opts.corpus ?? (await loadCorpus(opts.fixturesDir));
  const outcomes = corpus.filter((c) => splits.includes(c.entry.split)).map((c) => judge(c.entry, analyseRecording(c.samples, { amd })));
  return { mode, options: amd, splits: splits.map((s) => evaluateOutcomes(outcomes, s)), outcomes };
}

function pct(x: number | null): string {
  return x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`;
}
function msf(x: number | null): string {
  return x === null ? 'n/a' : `${Math.round(x)} ms`;
}

export function formatReport(report: EvalReport, verbose = false): string {
  const rows: [string, (f: SplitFigures) => string, string][] = [
    ['files (humans / machines)', (f) => `${f.files} (${f.humans} / ${f.machines})`, ''],
    ['human/machine accuracy', (f) => pct(f.humanMachineAccuracy), '≥ 98%'],
    ['humans called machine', (f) => pct(f.humansCalledMachine), '≤ 0.5%'],
    ['machines called human', (f) => pct(f.machinesCalledHuman), ''],
    ['human/machine left unknown', (f) => pct(f.humanMachineUnknown), ''],
    ['accuracy after revisions', (f) => pct(f.humanMachineAccuracyRevised), ''],
    ['humans called machine after rev.', (f) => pct(f.humansCalledMachineRevised), '≤ 0.5%'],
    ['fax accuracy', (f) => pct(f.faxAccuracy), ''],
    ['dead-air accuracy (unknown)', (f) => pct(f.deadAirAccuracy), ''],
    ['DTMF key heard in-band', (f) => pct(f.dtmfDetected), ''],
    ['beep recall', (f) => `${pct(f.beepRecall)} of ${f.beepFiles}`, '≥ 98%'],
    ['false beeps (per file)', (f) => pct(f.falseBeeps), '≤ 0.5%'],
    ['median human verdict', (f) => msf(f.medianHumanVerdictMs), ''],
    ['  … after first utterance end', (f) => msf(f.medianHumanVerdictAfterUtteranceMs), '≤ 1200 ms'],
    ['median machine verdict', (f) => msf(f.medianMachineVerdictMs), ''],
    ['median beep signal after beep end', (f) => msf(f.medianBeepLatencyMs), '≤ 150 ms'],
  ];
  const head = ['', ...report.splits.map((s) => s.split), 'target'];
  const table = [head, ...rows.map(([name, fn, target]) => [name, ...report.splits.map(fn), target])];
  const widths = head.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const lines = [`AMD evaluation, mode ${report.mode}`, ...table.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '))];
  lines.push('', 'Reliability (human/machine files with a human/machine verdict): confidence bin → files, mean confidence, observed accuracy');
  for (const s of report.splits) {
    for (const b of s.reliability) {
      lines.push(`  ${s.split.padEnd(8)} [${b.lo.toFixed(2)}, ${b.hi.toFixed(2)})  ${String(b.files).padStart(3)}  ${b.meanConfidence === null ? ' n/a' : b.meanConfidence.toFixed(2)}  ${pct(b.accuracy)}`);
    }
  }
  lines.push('', 'Confusion matrix:');
  for (const s of report.splits) lines.push(...confusion(report.outcomes, s.split));
  lines.push('', 'Errors (file: truth, verdict, reason):');
  for (const s of report.splits) {
    for (const e of s.errors) lines.push(`  [${s.split}] ${e.file}: truth ${e.truth}, got ${e.result} (${e.reason})`);
  }
  lines.push('', 'By source (human/machine files):', ...bySource(report.outcomes));
  if (verbose) {
    lines.push('', 'Beeps missed or misplaced:');
    for (const o of report.outcomes) {
      if (beepWrong(o)) lines.push(`  [${o.split}] beep ${o.file}: labelled end ${o.beepEndMs ?? '-'}, signalled ${o.beepMs ?? '-'}`);
    }
  }
  return lines.join('\n');
}

async function cli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean', default: false },
      verbose: { type: 'boolean', short: 'v', default: false },
      mode: { type: 'string', default: 'message-end' },
      split: { type: 'string', multiple: true },
      fixtures: { type: 'string' },
      'timing-rules': { type: 'boolean', default: false },
    },
  });
  const mode = values.mode;
  if (mode !== 'fast' && mode !== 'message-end') throw new Error(`--mode must be fast or message-end, got ${mode}`);
  const splits = (values.split ?? ['tune', 'heldout']).map((s) => {
    if (s !== 'tune' && s !== 'heldout') throw new Error(`--split must be tune or heldout, got ${s}`);
    return s;
  });
  // --timing-rules: the fixed timing rules the classifier replaced (for the before/after table).
  const amd: AmdOptions = values['timing-rules'] ? { model: false } : {};
  const report = await evaluateAmd({ mode, splits, amd, ...(values.fixtures ? { fixturesDir: resolve(values.fixtures) } : {}) });
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ mode: report.mode, options: report.options, splits: report.splits, outcomes: report.outcomes })}\n`);
  } else {
    process.stdout.write(`${formatReport(report, values.verbose)}\n`);
  }
  return 0;
}

if (import.meta.main) {
  try {
    process.exitCode = await cli(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`eval:amd: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
