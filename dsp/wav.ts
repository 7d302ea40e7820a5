// WAV bytes ⇄ 16-bit PCM, through wavefile. Any sample rate, mu-law/A-law or PCM/float, any channel
// count in; mono Int16 out (channels averaged). Pure: takes and returns bytes, no file I/O.
import wavefile from 'wavefile';
import { SAMPLE_RATE_HZ } from './frame.ts';
import { resample } from './resample.ts';

export interface PcmAudio {
  sampleRateHz: number;
  samples: Int16Array;
}

export function decodeWav(bytes: Uint8Array): PcmAudio {
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (err) {
    throw new Error(`not a readable WAV file: ${(err as Error).message}`, { cause: err });
  }
  const fmt = wav.fmt as { audioFormat: number; numChannels: number; sampleRate: number };
  const channels = fmt.numChannels;
  const sampleRateHz = fmt.sampleRate;
  if (!(channels >= 1) || !(sampleRateHz > 0)) throw new Error('not a readable WAV file: no channels or sample rate');
  if (fmt.audioFormat === 7) wav.fromMuLaw();
  else if (fmt.audioFormat === 6) wav.fromALaw();
  if (wav.bitDepth !== '16') wav.toBitDepth('16');
  const raw = wav.getSamples(true, Int16Array) as unknown as Int16Array;
  const frames = Math.floor(raw.length / channels);
  const samples = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let acc = 0;
    for (let c = 0; c < channels; c++) acc += raw[i * channels + c] as number;
    samples[i] = Math.round(acc / channels);
  }
  return { sampleRateHz, samples };
}

/** Decode a WAV and bring it to the telephony rate (8 kHz). */
export function decodeWavTo8k(bytes: Uint8Array): Int16Array {
  const { sampleRateHz, samples } = decodeWav(bytes);
  return sampleRateHz === SAMPLE_RATE_HZ ? samples : resample(samples, sampleRateHz, SAMPLE_RATE_HZ);
}

/** 16-bit PCM WAV bytes; `channels` > 1 expects interleaved samples. */
export function encodeWav(samples: Int16Array, sampleRateHz: number, channels = 1): Uint8Array {
  const wav = new wavefile.WaveFile();
  if (channels === 1) wav.fromScratch(1, sampleRateHz, '16', samples);
  else {
    const split: Int16Array[] = [];
    const frames = Math.floor(samples.length / channels);
    for (let c = 0; c < channels; c++) {
      const ch = new Int16Array(frames);
      for (let i = 0; i < frames; i++) ch[i] = samples[i * channels + c] as number;
      split.push(ch);
    }
    wav.fromScratch(channels, sampleRateHz, '16', split);
  }
  return wav.toBuffer();
}

/** 8 kHz mu-law WAV bytes (what a carrier would record). */
export function encodeMulawWav(mulaw: Uint8Array): Uint8Array {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, SAMPLE_RATE_HZ, '8m', mulaw);
  return wav.toBuffer();
}
