// Beep detector over real speech: every false beep is a person the AMD would call a machine and hang
// up on. Reads the speech audio of installed Debian packages under /usr/share (Asterisk prompts, Fish
// Fillets NG, Hedgewars and MegaGlest voices), decodes it with SoX to 8 kHz, and runs each file through
// the beep detector as the detector chain builds it (`new BeepDetector()`, the defaults DetectorChain
// and AMD use) in five variants, each through G.711 mu-law as a call's audio is: as is, +10 dB (clipped),
// −15 dB, and white noise at 20 and 10 dB under the file's active speech level. Files that are real tones
// (beep.wav, confbridge chimes, …) are listed apart and not counted as false beeps.
//
// Not part of the test suite (it needs the packages, see fixtures/README.md for the apt-get line).
// Deterministic: files are sorted and sampled evenly, noise is seeded from the file's path.
//
//   node_modules/.bin/node bench/beep-scan.ts [--set asterisk|fillets|hedgewars|megaglest|klettres|warmux|pocketsphinx|all]
//       [--limit N] [--every K] [--only REGEX] [--clips DIR] [--json]
//
// --limit N keeps at most N files per set, spread evenly over it; --every K keeps one file in K; --only
// keeps the files whose path (relative to the set's folder) matches (sampling applies after it).
// --clips DIR writes each false fire as a short 8 kHz 16-bit WAV (the variant as the detector heard it,
// already through mu-law: 800 ms before the tone to 500 ms after it) for a closer look or a regression fixture.
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { BeepDetector } from '../dsp/beep.ts';
import { activeMeanSquare, decodeTo8k, listFiles } from './lib/debianAudio.ts';
import { FRAME_SAMPLES, SAMPLE_RATE_HZ } from '../dsp/frame.ts';
import { decodeMulawInto, encodeMulaw } from '../dsp/mulaw.ts';
import { encodeWav } from '../dsp/wav.ts';
import { createRng } from '../scripts/fixtures/signal.ts';

type SetName = 'asterisk' | 'fillets' | 'hedgewars' | 'megaglest' | 'klettres' | 'warmux' | 'pocketsphinx';
const SETS: readonly SetName[] = ['asterisk', 'fillets', 'hedgewars', 'megaglest', 'klettres', 'warmux', 'pocketsphinx'];

interface SetSource {
  /** Debian packages the files come from (for the report). */
  packages: string;
  root: string;
  /** Whether a file under `root` (path relative to it) is speech we scan. */
  keep: (rel: string) => boolean;
}

const SOURCES: Record<SetName, SetSource> = {
  asterisk: {
    packages: 'asterisk-core-sounds-{en,es,fr,it,ru}-wav, asterisk-prompt-{es-co,fr-armelle,it-menardi-wav}',
    root: '/usr/share/asterisk/sounds',
    keep: (rel) => /\.(wav|gsm)$/.test(rel),
  },
  fillets: {
    packages: 'fillets-ng-data-cs, fillets-ng-data-nl',
    root: '/usr/share/games/fillets-ng/sound',
    // Dialogue lives in <level>/<lang>/; music and effects elsewhere.
    keep: (rel) => /(^|\/)(cs|nl)\/[^/]+\.ogg$/.test(rel),
  },
  hedgewars: {
    packages: 'hedgewars-data',
    root: '/usr/share/games/hedgewars/Data/Sounds/voices',
    // Robot is vocoded (a buzz, not a person).
    keep: (rel) => rel.endsWith('.ogg') && !rel.startsWith('Robot/'),
  },
  megaglest: {
    packages: 'megaglest-data',
    root: '/usr/share/games/megaglest/techs/megapack/factions',
    // Unit voices (acknowledgements, selections, battle cries); weapon and building sounds are not speech.
    keep: (rel) => /\/units\/[^/]+\/sounds\/[^/]*(ack|select|attack)[^/]*\.wav$/.test(rel),
  },
  // Not in the AMD corpus: a check on voices the detector was never tuned on. Letters and syllables
  // spoken (often drawn out: "aaa", "ooo") by real speakers of 20 languages, and cartoon-character shouts.
  klettres: {
    packages: 'klettres-data',
    root: '/usr/share/klettres',
    keep: (rel) => /\/(alpha|syllab)\/[^/]+\.(ogg|wav)$/.test(rel),
  },
  warmux: {
    packages: 'warmux-data',
    root: '/usr/share/games/warmux/sound/default/voices',
    keep: (rel) => /\.(ogg|wav)$/.test(rel),
  },
  // Not in the AMD corpus either: read English (an audiobook chapter from LibriVox, a male voice) and
  // spoken card numbers, 16 kHz recordings the scan resamples to 8 kHz.
  pocketsphinx: {
    packages: 'pocketsphinx-testdata',
    root: '/usr/share/pocketsphinx/test/data',
    keep: (rel) => /^(cards|librivox)\/.*\.wav$/.test(rel),
  },
};

/**
 * Files that are real tones, not speech: Asterisk's beeps, its two-tone signals, ConfBridge's join and
 * leave chimes (0.37 s) and its music stings. Their fires are listed but not counted as false. Other
 * ConfBridge prompts (`…-in`, `…-out`) are speech and count.
 */
const TONE_NAME = /^(beep|beeperr|ascending-2tone|descending-2tone|confbridge-join|confbridge-leave|confbridge-begin-glorious-[a-z])\./i;

export function isToneFile(path: string): boolean {
  return TONE_NAME.test(basename(path));
}

interface Variant {
  name: string;
  gainDb: number;
  /** White noise this far under the active speech level (dB), or null. */
  snrDb: number | null;
}

const VARIANTS: readonly Variant[] = [
  { name: 'as-is', gainDb: 0, snrDb: null },
  { name: '+10dB', gainDb: 10, snrDb: null },
  { name: '-15dB', gainDb: -15, snrDb: null },
  { name: 'snr20', gainDb: 0, snrDb: 20 },
  { name: 'snr10', gainDb: 0, snrDb: 10 },
];

/** Silence around each file: a beep is judged against what precedes it, and its end needs audio after it. */
const PAD_SAMPLES = SAMPLE_RATE_HZ * 0.3;

interface Fire {
  set: SetName;
  file: string;
  variant: string;
  frequencyHz: number;
  durationMs: number;
  /** Where the tone ended in the file (ms, padding excluded). */
  endMs: number;
  tone: boolean;
}

interface SetResult {
  set: SetName;
  files: number;
  fileVariants: number;
  /** File-variants of speech files with at least one beep. */
  falseFileVariants: number;
  candidates: number;
  fires: Fire[];
  seconds: number;
}

/** Evenly spaced, deterministic sample: at most `limit` files, or one in `every`. */
function sample<T>(items: T[], limit: number | null, every: number): T[] {
  const step = Math.max(every, limit !== null && limit > 0 ? Math.ceil(items.length / limit) : 1);
  return items.filter((_, i) => i % step === 0).slice(0, limit ?? undefined);
}

/** FNV-1a of a string: a seed per file and variant. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}


/** The variant, padded with silence, through mu-law and back (what a carrier delivers). */
function render(speech: Int16Array, v: Variant, seed: number): Int16Array {
  const x = new Float64Array(speech.length + 2 * PAD_SAMPLES);
  const g = 10 ** (v.gainDb / 20);
  for (let i = 0; i < speech.length; i++) x[PAD_SAMPLES + i] = (speech[i] as number) * g;
  if (v.snrDb !== null) {
    const sigma = Math.sqrt(activeMeanSquare(speech) * 10 ** (-v.snrDb / 10));
    const r = createRng(seed);
    for (let i = 0; i < x.length; i++) {
      const u = Math.max(1e-12, r());
      x[i] = (x[i] as number) + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
    }
  }
  const linear = new Int16Array(x.length);
  for (let i = 0; i < x.length; i++) linear[i] = Math.max(-32768, Math.min(32767, Math.round(x[i] as number)));
  const out = new Int16Array(linear.length);
  decodeMulawInto(encodeMulaw(linear), out);
  return out;
}

interface Detected {
  frequencyHz: number;
  durationSamples: number;
  endSample: number;
}

/** Beeps signalled, and candidates (tones held ≥ 40 ms: `toneActive` rising). */
function detect(x: Int16Array): { beeps: Detected[]; candidates: number } {
  const d = new BeepDetector();
  const beeps: Detected[] = [];
  let candidates = 0;
  let active = false;
  for (let off = 0; off + FRAME_SAMPLES <= x.length; off += FRAME_SAMPLES) {
    const r = d.process(x.subarray(off, off + FRAME_SAMPLES));
    if (r.toneActive && !active) candidates++;
    active = r.toneActive;
    if (r.beep) beeps.push({ frequencyHz: r.frequencyHz, durationSamples: r.durationSamples, endSample: r.endSample });
  }
  return { beeps, candidates };
}

function scanSet(set: SetName, limit: number | null, every: number, clipsDir: string | null, only: RegExp | null): SetResult {
  const src = SOURCES[set];
  const t0 = performance.now();
  const files = sample(
    listFiles(src.root).filter((p) => src.keep(relative(src.root, p)) && (only === null || only.test(relative(src.root, p)))),
    limit,
    every,
  );
  const res: SetResult = { set, files: 0, fileVariants: 0, falseFileVariants: 0, candidates: 0, fires: [], seconds: 0 };
  for (const path of files) {
    const speech = decodeTo8k(path);
    if (!speech || speech.length < FRAME_SAMPLES) continue;
    res.files++;
    const tone = isToneFile(path);
    const rel = relative(src.root, path);
    for (const v of VARIANTS) {
      const x = render(speech, v, hash(`${rel}:${v.name}`));
      const { beeps, candidates } = detect(x);
      res.fileVariants++;
      res.candidates += candidates;
      if (beeps.length > 0 && !tone) res.falseFileVariants++;
      for (const b of beeps) {
        res.fires.push({ set, file: rel, variant: v.name, frequencyHz: b.frequencyHz, durationMs: b.durationSamples / 8, endMs: Math.round((b.endSample - PAD_SAMPLES) / 8), tone });
        if (clipsDir && !tone) writeClip(clipsDir, set, rel, v.name, x, b);
      }
    }
  }
  res.seconds = (performance.now() - t0) / 1000;
  return res;
}

function writeClip(dir: string, set: SetName, rel: string, variant: string, x: Int16Array, b: Detected): void {
  // Cut on a frame boundary: the detector's 10 ms hops then fall where they fell in the scan (a borderline
  // candidate shifted by part of a hop may come out otherwise).
  const from = Math.max(0, Math.floor((b.endSample - b.durationSamples - 0.8 * SAMPLE_RATE_HZ) / FRAME_SAMPLES) * FRAME_SAMPLES);
  const to = Math.min(x.length, b.endSample + 0.5 * SAMPLE_RATE_HZ);
  mkdirSync(dir, { recursive: true });
  const name = `${set}_${rel.replace(/\.[a-z0-9]+$/, '').replace(/[^A-Za-z0-9-]+/g, '-')}_${variant}_${b.frequencyHz}hz_${Math.round(b.durationSamples / 8)}ms.wav`;
  writeFileSync(join(dir, name), encodeWav(x.subarray(Math.round(from), Math.round(to)), SAMPLE_RATE_HZ));
}

function main(): void {
  const { values } = parseArgs({
    options: {
      set: { type: 'string', default: 'all' },
      limit: { type: 'string' },
      every: { type: 'string', default: '1' },
      clips: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const sets = values.set === 'all' ? SETS : SETS.filter((s) => s === values.set);
  if (sets.length === 0) throw new Error(`--set must be one of ${SETS.join(', ')} or all`);
  const limit = values.limit !== undefined ? Number(values.limit) : null;
  const every = Number(values.every);
  if ((limit !== null && !(Number.isInteger(limit) && limit > 0)) || !(Number.isInteger(every) && every > 0)) throw new Error('--limit and --every take a positive integer');
  const results: SetResult[] = [];
  for (const set of sets) {
    const r = scanSet(set, limit, every, values.clips ?? null, values.only !== undefined ? new RegExp(values.only) : null);
    results.push(r);
    if (!values.json) printSet(r);
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  process.stdout.write('\nset        files  file-variants  candidates  false fires (file-variants)  tone files fired\n');
  for (const r of results) {
    const toneFires = new Set(r.fires.filter((f) => f.tone).map((f) => `${f.file}:${f.variant}`)).size;
    process.stdout.write(`${r.set.padEnd(10)} ${String(r.files).padStart(5)}  ${String(r.fileVariants).padStart(13)}  ${String(r.candidates).padStart(10)}  ${String(r.falseFileVariants).padStart(27)}  ${String(toneFires).padStart(16)}\n`);
  }
}

function printSet(r: SetResult): void {
  const src = SOURCES[r.set];
  process.stdout.write(`\n== ${r.set} (${src.packages}; ${src.root}) — ${r.files} files, ${r.fileVariants} file-variants, ${r.candidates} candidates, ${r.seconds.toFixed(0)} s\n`);
  const falseFires = r.fires.filter((f) => !f.tone);
  const toneFires = r.fires.filter((f) => f.tone);
  process.stdout.write(`false beeps: ${r.falseFileVariants} file-variants (${falseFires.length} beeps)\n`);
  for (const f of falseFires) process.stdout.write(`  ${f.file}  ${f.variant}  ${f.frequencyHz} Hz  ${f.durationMs} ms  ends ${f.endMs} ms\n`);
  if (toneFires.length > 0) {
    process.stdout.write(`real tones (not counted): ${toneFires.length} beeps\n`);
    for (const f of toneFires) process.stdout.write(`  ${f.file}  ${f.variant}  ${f.frequencyHz} Hz  ${f.durationMs} ms  ends ${f.endMs} ms\n`);
  }
}

main();
