// Audio on the carrier's side of the socket: the caller's speech cut into 20 ms frames in the stream's
// codec (mu-law 8 kHz, or SignalWire's L16 at 8/16/24 kHz, big-endian per RFC 3551), and the gateway's
// audio brought back to 8 kHz mu-law for the recording.
import { FRAME_MS, SAMPLE_RATE_HZ } from '../../dsp/frame.ts';
import { encodeMulaw, MULAW_SILENCE } from '../../dsp/mulaw.ts';
import { Resampler, resample } from '../../dsp/resample.ts';
import type { PcmAudio } from '../../dsp/wav.ts';
import { decodeL16, encodeL16 } from '../telephony/l16.ts';
import type { Carrier, MediaFormat } from '../telephony/types.ts';

/** Parse a cXML codec name (`PCMU@8000h`, `L16@16000h`, `L16@24000h`; `L16` alone means 8 kHz). */
export function parseCodec(codec: string): MediaFormat | undefined {
  const m = /^(PCMU|L16)(?:@(\d+)h)?$/i.exec(codec.trim());
  if (!m) return undefined;
  const rate = m[2] === undefined ? 8000 : Number(m[2]);
  if ((m[1] as string).toUpperCase() === 'PCMU') return rate === 8000 ? { encoding: 'audio/x-mulaw', sampleRateHz: 8000, channels: 1 } : undefined;
  return [8000, 16000, 24000].includes(rate) ? { encoding: 'audio/x-L16', sampleRateHz: rate, channels: 1 } : undefined;
}

export const MULAW_8K: MediaFormat = { encoding: 'audio/x-mulaw', sampleRateHz: SAMPLE_RATE_HZ, channels: 1 };

/** Which formats a carrier can stream (Twilio: mu-law 8 kHz only). */
export function carrierSupportsFormat(carrier: Carrier, format: MediaFormat): boolean {
  return format.encoding === 'audio/x-mulaw' || carrier === 'signalwire';
}

export interface FramedAudio {
  /** The whole utterance in the wire format. */
  bytes: Uint8Array;
  frameBytes: number;
  /** One frame of silence in the wire format (for the hold after the file ends). */
  silence: Uint8Array;
  durationMs: number;
}

/** Encode the caller's audio for the wire, cut into 20 ms frames (the last one may be short). */
export function frameForWire(audio: PcmAudio, format: MediaFormat): FramedAudio {
  const samples = audio.sampleRateHz === format.sampleRateHz ? audio.samples : resample(audio.samples, audio.sampleRateHz, format.sampleRateHz);
  const frameSamples = (format.sampleRateHz * FRAME_MS) / 1000;
  const durationMs = (samples.length * 1000) / format.sampleRateHz;
  if (format.encoding === 'audio/x-mulaw') {
    return { bytes: encodeMulaw(samples), frameBytes: frameSamples, silence: new Uint8Array(frameSamples).fill(MULAW_SILENCE), durationMs };
  }
  return { bytes: encodeL16(samples), frameBytes: frameSamples * 2, silence: new Uint8Array(frameSamples * 2), durationMs };
}

/** Turns what the gateway sends (in the stream's format) into 8 kHz mu-law, keeping resampler state across chunks. */
export class InboundAudioDecoder {
  private readonly format: MediaFormat;
  private readonly resampler: Resampler | undefined;

  constructor(format: MediaFormat) {
    this.format = format;
    this.resampler = format.encoding === 'audio/x-L16' && format.sampleRateHz !== SAMPLE_RATE_HZ ? new Resampler(format.sampleRateHz, SAMPLE_RATE_HZ) : undefined;
  }

  decode(payload: Uint8Array): Uint8Array {
    if (this.format.encoding === 'audio/x-mulaw') return payload;
    const pcm = decodeL16(payload);
    return encodeMulaw(this.resampler ? this.resampler.process(pcm) : pcm);
  }
}
