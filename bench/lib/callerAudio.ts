// What the benchmark's callers say: a real spoken sentence from the fixtures followed by a second of
// silence, repeated to the wanted length, so the detectors see speech onsets, pauses and ends as on a
// real call. Falls back to a synthetic voiced signal when the fixtures are absent.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import { decodeWavTo8k, type PcmAudio } from '../../dsp/wav.ts';

const SENTENCE = fileURLToPath(new URL('../../fixtures/speech/sentence_3s.wav', import.meta.url));
const GREETING = fileURLToPath(new URL('../../fixtures/greeting.wav', import.meta.url));

function sentence(): Int16Array {
  if (existsSync(SENTENCE)) return decodeWavTo8k(new Uint8Array(readFileSync(SENTENCE)));
  // 2 s of a 140 Hz harmonic tone with a syllable-rate envelope: speech-like for a VAD.
  const x = new Int16Array(SAMPLE_RATE_HZ * 2);
  for (let i = 0; i < x.length; i++) {
    const t = i / SAMPLE_RATE_HZ;
    let v = 0;
    for (let h = 1; h <= 6; h++) v += (2500 / h) * Math.sin(2 * Math.PI * 140 * h * t);
    x[i] = Math.round(v * Math.abs(Math.sin(Math.PI * 4 * t)));
  }
  return x;
}

/** `durationMs` of caller audio at 8 kHz. */
export function callerAudio(durationMs: number): PcmAudio {
  const total = Math.max(1, Math.round((durationMs * SAMPLE_RATE_HZ) / 1000));
  const s = sentence();
  const period = s.length + SAMPLE_RATE_HZ;
  const samples = new Int16Array(total);
  for (let at = 0; at < total; at += period) samples.set(s.subarray(0, Math.min(s.length, total - at)), at);
  return { sampleRateHz: SAMPLE_RATE_HZ, samples };
}

/** Length of the greeting the gateway plays (ms), to tell whether a caller heard all of it. */
export function greetingMs(): number {
  if (!existsSync(GREETING)) return Number.NaN;
  return (decodeWavTo8k(new Uint8Array(readFileSync(GREETING))).length * 1000) / SAMPLE_RATE_HZ;
}
