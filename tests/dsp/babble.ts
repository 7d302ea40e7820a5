// A babble of recorded voices for tests of talk behind a caller (a TV, an office): six greetings without
// a beep from the AMD corpus, of six voices, each looped from its own offset and summed.
import { readFileSync } from 'node:fs';
import { decodeWavTo8k } from '../../dsp/wav.ts';

export interface Entry {
  file: string;
  truth: string;
  scenario: string;
  source: string;
}

const root = new URL('../../fixtures/', import.meta.url);
export const manifest = JSON.parse(readFileSync(new URL('amd/manifest.json', root), 'utf8')) as { files: Entry[] };
export const load = (file: string): Int16Array => decodeWavTo8k(new Uint8Array(readFileSync(new URL(file, root))));

/** Loudest 50 ms RMS of a recording (dBFS re full-scale square, as the VAD's levels). */
function peakDb(x: Int16Array): number {
  let best = 0;
  for (let i = 0; i + 400 <= x.length; i += 200) {
    let acc = 0;
    for (let k = i; k < i + 400; k++) acc += (x[k] as number) ** 2;
    best = Math.max(best, acc / 400);
  }
  return 10 * Math.log10(best / 32767 ** 2);
}

const babbles = new Map<string, Float64Array>();

/**
 * The six greetings, named so the babble stays the same as the corpus grows (they were the first six no-beep
 * greetings in file order until more announcements were added), plus a seventh for a person whose own
 * recording is one of them.
 */
const BABBLE_FILES = [
  'amd/machine_nobeep_en-allison_announcement_-19dB_snr20white.wav',
  'amd/machine_nobeep_en-allison_short_-10dB_snr12hum50.wav',
  'amd/machine_nobeep_es-allison_short_-27dB_snr30hum60.wav',
  'amd/machine_nobeep_es-co_short_-8dB_floorpink-76.wav',
  'amd/machine_nobeep_fr-armelle_short_-29dB_floorpink-62.wav',
  'amd/machine_nobeep_fr-june_short_-21dB_snr20hum60.wav',
  'amd/machine_nobeep_it-carlo_announcement_-29dB_snr20hum60.wav',
];

/** Six greetings without a beep, of six voices (not the person's), each looped from its own offset and summed. */
export function babble(lengthSamples: number, exclude: string): Float64Array {
  const cached = babbles.get(exclude);
  if (cached !== undefined && cached.length >= lengthSamples) return cached;
  const sources = new Set<string>();
  const out = new Float64Array(Math.max(lengthSamples, 8000 * 12));
  babbles.set(exclude, out);
  for (const file of BABBLE_FILES) {
    const e = manifest.files.find((f) => f.file === file);
    if (e === undefined) throw new Error(`babble greeting ${file} is not in the corpus`);
    if (e.source === exclude || sources.has(e.source) || sources.size === 6) continue;
    sources.add(e.source);
    const g = load(e.file);
    const offset = Math.floor((sources.size * g.length) / 7);
    for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (g[(offset + i) % g.length] as number);
  }
  return out;
}

function rmsDb(x: Float64Array): number {
  let acc = 0;
  for (const v of x) acc += v * v;
  return 10 * Math.log10(acc / x.length / 32767 ** 2);
}

/** `person` with the babble under it: the babble's RMS `snrDb` under the person's loudest 50 ms, from `offset` samples in. */
export function withBabble(person: Int16Array, source: string, snrDb: number, offset = 0): Int16Array {
  const b = babble(person.length + offset, source).subarray(offset, offset + person.length);
  const gain = 10 ** ((peakDb(person) - snrDb - rmsDb(b)) / 20);
  const mixed = new Int16Array(person.length);
  for (let i = 0; i < person.length; i++) mixed[i] = Math.max(-32768, Math.min(32767, Math.round((person[i] as number) + gain * (b[i] as number))));
  return mixed;
}

