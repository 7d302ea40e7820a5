// `node bench/beep-alignments.ts [--gain=DB] [--min-dbfs=DB] [-v]` (negative values need the `=`)
// The beep detector alone over every corpus file at ten frame alignments (0–18 ms of leading silence): any
// other recording sits at an alignment of its own against our 20 ms frames and 10 ms hops, so a beep found,
// or a voice refused, at one alignment only is luck. Prints beep recall over the beep files' variants (found
// from 100 ms before to 1 s after the labelled end, as `npm run eval:amd` counts) and the file-variants where
// a beep fired anywhere else (fax files excluded: CNG is the fax detector's to claim). `--gain` scales the
// corpus first (clipped); `--min-dbfs` overrides the detector's level floor.
import { parseArgs } from 'node:util';
import { BeepDetector } from '../dsp/beep.ts';
import { FRAME_SAMPLES } from '../dsp/frame.ts';
import { loadCorpus } from './eval-amd.ts';

const OFFSETS_MS = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18];

export interface AlignmentFigures {
  beepVariants: number;
  found: number;
  variants: number;
  falseFireVariants: number;
  missed: string[];
  fires: string[];
}

export async function beepAlignments(gainDb = 0, minDbfs?: number): Promise<AlignmentFigures> {
  const g = 10 ** (gainDb / 20);
  const corpus = await loadCorpus();
  const out: AlignmentFigures = { beepVariants: 0, found: 0, variants: 0, falseFireVariants: 0, missed: [], fires: [] };
  const frame = new Int16Array(FRAME_SAMPLES);
  for (const { entry, samples } of corpus) {
    for (const off of OFFSETS_MS) {
      const n = off * 8;
      // A second of silence after the file, so a beep at its very end is still signalled.
      const y = new Int16Array(samples.length + n + 8000);
      for (let i = 0; i < samples.length; i++) y[n + i] = Math.max(-32768, Math.min(32767, Math.round((samples[i] as number) * g)));
      const d = new BeepDetector(minDbfs === undefined ? {} : { minDbfs });
      let ok = false;
      let bad = false;
      for (let s = 0; s + FRAME_SAMPLES <= y.length; s += FRAME_SAMPLES) {
        frame.set(y.subarray(s, s + FRAME_SAMPLES));
        const r = d.process(frame);
        if (!r.beep) continue;
        const atMs = (s + FRAME_SAMPLES) / 8 - off;
        if (entry.beepEndMs !== null && atMs >= entry.beepEndMs - 100 && atMs <= entry.beepEndMs + 1000) ok = true;
        else if (entry.truth !== 'fax') {
          bad = true;
          out.fires.push(`${entry.file} +${off} ms: ${r.frequencyHz} Hz at ${atMs} ms`);
        }
      }
      out.variants++;
      if (entry.beepEndMs !== null) {
        out.beepVariants++;
        if (ok) out.found++;
        else out.missed.push(`${entry.file} +${off} ms`);
      }
      if (bad) out.falseFireVariants++;
    }
  }
  return out;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { gain: { type: 'string', default: '0' }, 'min-dbfs': { type: 'string' }, verbose: { type: 'boolean', short: 'v', default: false } } });
  const f = await beepAlignments(Number(values.gain), values['min-dbfs'] === undefined ? undefined : Number(values['min-dbfs']));
  process.stdout.write(`beep recall ${f.found}/${f.beepVariants}, file-variants with a false fire ${f.falseFireVariants}/${f.variants}\n`);
  if (values.verbose) for (const l of [...f.missed.map((m) => `missed ${m}`), ...f.fires.map((m) => `fired ${m}`)]) process.stdout.write(`  ${l}\n`);
}
