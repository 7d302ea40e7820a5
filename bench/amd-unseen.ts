// `node bench/amd-unseen.ts [--set klettres|warmux|all] [--every K]` — AMD over people it was never
// tuned on: each file of a Debian package of real short utterances (KLettres' letters and syllables
// in 20 languages, Warmux's character shouts) becomes a person's answer — 0.5 s of line, the word,
// then the line — in five variants through G.711 mu-law (as is, −15 dB, −25 dB, white noise 10 dB
// and pink noise 10 dB under the word). Counts the verdicts: a person must never be called a machine,
// and a word should be heard (not `unknown`). Not part of the test suite (needs the packages:
// apt-get install klettres-data warmux-data).
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { analyseRecording } from '../dsp/analyse.ts';
import { activeMeanSquare, decodeTo8k, listFiles } from './lib/debianAudio.ts';
import { SAMPLE_RATE_HZ } from '../dsp/frame.ts';
import { decodeMulawInto, encodeMulaw } from '../dsp/mulaw.ts';
import { createRng, hashString, noise, type NoiseKind } from '../scripts/fixtures/signal.ts';

const SETS = {
  klettres: { root: '/usr/share/klettres', keep: (rel: string) => /\/(alpha|syllab)\/[^/]+\.(ogg|wav)$/.test(rel) },
  warmux: { root: '/usr/share/games/warmux/sound/default/voices', keep: (rel: string) => /\.(ogg|wav)$/.test(rel) },
} as const;
type SetName = keyof typeof SETS;

interface Variant { name: string; gainDb: number; noise: NoiseKind | null; snrDb: number }
const VARIANTS: readonly Variant[] = [
  { name: 'as-is', gainDb: 0, noise: null, snrDb: 0 },
  { name: '-15dB', gainDb: -15, noise: null, snrDb: 0 },
  { name: '-25dB', gainDb: -25, noise: null, snrDb: 0 },
  { name: 'white10', gainDb: 0, noise: 'white', snrDb: 10 },
  { name: 'pink10', gainDb: 0, noise: 'pink', snrDb: 10 },
];
const LEAD = SAMPLE_RATE_HZ / 2;
const TAIL = SAMPLE_RATE_HZ * 6;

/**
 * The level (dBFS) the word holds for 60 ms at its loudest: the highest, over 20 ms frames, of the
 * quietest of three frames in a row. A click at a file's start (several KLettres recordings have one)
 * sets `activeMeanSquare` but is not a word: an `unknown` is judged by what the word itself holds.
 */
function heldDbfs(x: Float64Array): number {
  const n = SAMPLE_RATE_HZ / 50;
  const db: number[] = [];
  for (let i = 0; i + n <= x.length; i += n) {
    let e = 0;
    for (let j = i; j < i + n; j++) e += (x[j] as number) ** 2;
    db.push(10 * Math.log10(Math.max(1e-10, e / n) / ((32767 * 32767) / 2)));
  }
  let best = -Infinity;
  for (let i = 0; i + 3 <= db.length; i++) best = Math.max(best, Math.min(db[i] as number, db[i + 1] as number, db[i + 2] as number));
  return best;
}

/** What an `unknown` had to be heard by: the word's held level, and in a noise variant how far over the noise. */
function heldNote(word: Float64Array, v: Variant): string {
  const held = heldDbfs(word) + v.gainDb;
  if (v.noise === null) return `word holds ${held.toFixed(1)} dBFS`;
  const noiseDbfs = 10 * Math.log10(activeMeanSquare(word) / ((32767 * 32767) / 2)) + v.gainDb - v.snrDb;
  return `word holds ${(held - noiseDbfs).toFixed(1)} dB over the noise`;
}

function render(word: Float64Array, v: Variant, seed: number): Int16Array {
  const x = new Float64Array(LEAD + word.length + TAIL);
  const g = 10 ** (v.gainDb / 20);
  for (let i = 0; i < word.length; i++) x[LEAD + i] = (word[i] as number) * g;
  if (v.noise !== null) {
    const n = noise(createRng(seed), v.noise, SAMPLE_RATE_HZ, x.length);
    let e = 0;
    for (const s of n) e += s * s;
    const k = Math.sqrt((activeMeanSquare(word) * g * g * 10 ** (-v.snrDb / 10)) / Math.max(1e-12, e / n.length));
    for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + k * (n[i] as number);
  }
  const lin = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) lin[i] = Math.max(-32768, Math.min(32767, Math.round(x[i] as number)));
  const out = new Int16Array(lin.length);
  decodeMulawInto(encodeMulaw(lin), out);
  return out;
}

const { values } = parseArgs({ options: { set: { type: 'string', default: 'all' }, every: { type: 'string', default: '1' }, list: { type: 'boolean', default: false } } });
const every = Math.max(1, Number(values.every));
const sets = (values.set === 'all' ? Object.keys(SETS) : [values.set]) as SetName[];
for (const set of sets) {
  const { root, keep } = SETS[set];
  const files = listFiles(root).filter((p) => keep(relative(root, p))).filter((_, i) => i % every === 0);
  const tally = new Map<string, Record<string, number>>();
  const after: number[] = [];
  const bad: string[] = [];
  for (const f of files) {
    const pcm = decodeTo8k(f);
    const word = pcm === null ? null : Float64Array.from(pcm);
    if (word === null || word.length < 400) continue;
    for (const v of VARIANTS) {
      const r = analyseRecording(render(word, v, hashString(`${f}:${v.name}`)));
      const t = tally.get(v.name) ?? { human: 0, machine: 0, unknown: 0, fax: 0, beep: 0 };
      t[r.result] = (t[r.result] ?? 0) + 1;
      if (r.beepMs !== null) t.beep = (t.beep ?? 0) + 1;
      tally.set(v.name, t);
      if (r.result === 'human' && r.decisionMs !== null) after.push(r.decisionMs - (LEAD * 1000) / SAMPLE_RATE_HZ - (word.length * 1000) / SAMPLE_RATE_HZ);
      const note = r.result === 'unknown' ? `; ${heldNote(word, v)}` : '';
      if (r.result !== 'human' || r.beepMs !== null) bad.push(`${relative(root, f)} ${v.name}: ${r.result} (${r.reason}${note})${r.beepMs !== null ? ` beep at ${r.beepMs} ms` : ''}`);
    }
  }
  after.sort((a, b) => a - b);
  console.log(`\n== ${set}: ${files.length} files × ${VARIANTS.length} variants`);
  console.log('variant     human  machine  unknown  fax  beep');
  for (const [name, t] of tally) console.log(`${name.padEnd(10)} ${String(t.human).padStart(6)} ${String(t.machine).padStart(8)} ${String(t.unknown).padStart(8)} ${String(t.fax).padStart(4)} ${String(t.beep).padStart(5)}`);
  console.log(`human verdict after the word's end (file length, so ≥ the true figure): median ${Math.round(after[after.length >> 1] ?? NaN)} ms`);
  for (const b of values.list ? bad : bad.slice(0, 30)) console.log(`  ${b}`);
  if (!values.list && bad.length > 30) console.log(`  … ${bad.length - 30} more (--list)`);
}
