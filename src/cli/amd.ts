// `npm run --silent amd -- [--json] [--mode fast|message-end] FILE.wav...`
// Analyses WAV files (mu-law or PCM, any rate) as if each were the start of an answered call, frame by
// frame on the media clock, and prints one line per file. Unreadable files are reported on stderr and
// make the exit status non-zero; the other files are still analysed.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { decodeWavTo8k } from '../../dsp/wav.ts';
import { analyseRecording } from '../../dsp/analyse.ts';
import type { AmdMode } from '../../dsp/amd.ts';
import { samplesToMs } from '../../dsp/frame.ts';

const USAGE = 'usage: npm run --silent amd -- [--json] [--mode fast|message-end] FILE.wav...';

export interface CliLine {
  file: string;
  result: string;
  answeredBy: string;
  confidence: number;
  decisionMs: number | null;
  beepMs: number | null;
  reason: string;
  /** The verdict's one revision within the recording (a late beep, a key press), or null. */
  revised: { result: string; answeredBy: string; confidence: number; atMs: number; reason: string } | null;
}

export async function analyseFile(file: string, mode: AmdMode): Promise<CliLine> {
  const samples = decodeWavTo8k(new Uint8Array(await readFile(file)));
  const r = analyseRecording(samples, { amd: { mode } });
  const rev = r.events.find((e) => e.type === 'amd.revised');
  return {
    file,
    result: r.result,
    answeredBy: r.answeredBy,
    confidence: r.confidence,
    decisionMs: r.decisionMs,
    beepMs: r.beepMs,
    reason: r.reason,
    revised: rev ? { result: rev.result, answeredBy: rev.answeredBy, confidence: rev.confidence, atMs: samplesToMs(rev.atSample), reason: rev.reason } : null,
  };
}

function formatText(l: CliLine): string {
  const at = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(2)}s`);
  return `${l.file}\t${l.result}\t${l.answeredBy}\tconfidence=${l.confidence.toFixed(2)}\tdecision=${at(l.decisionMs)}\tbeep=${at(l.beepMs)}\t${l.reason}${l.revised ? `\trevised=${l.revised.result}@${at(l.revised.atMs)} (${l.revised.reason})` : ''}`;
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, mode: { type: 'string', default: 'message-end' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const mode = values.mode;
  if (mode !== 'fast' && mode !== 'message-end') {
    process.stderr.write(`--mode must be fast or message-end, got ${mode}\n${USAGE}\n`);
    return 2;
  }
  if (positionals.length === 0) {
    process.stderr.write(`no WAV files given\n${USAGE}\n`);
    return 2;
  }
  let failed = 0;
  for (const file of positionals) {
    try {
      const line = await analyseFile(file, mode);
      process.stdout.write(`${values.json ? JSON.stringify(line) : formatText(line)}\n`);
    } catch (err) {
      failed++;
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
      process.stderr.write(`amd: ${file}: ${why}\n`);
    }
  }
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
