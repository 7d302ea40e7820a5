// OpenAI speech: `response_format: pcm` is raw 24 kHz 16-bit little-endian mono (OpenAI audio API
// reference). It is brought to 8 kHz through the shared streaming windowed-sinc Resampler (a proper
// anti-aliasing low-pass; naive decimation would fold 4–12 kHz into the phone band) and encoded to
// mu-law. Network chunks can split a sample, so an odd trailing byte is carried to the next chunk.
import { openAiClient, type OpenAiClient } from '../openaiSdk.ts';
import { encodeMulawInto } from '../../../dsp/mulaw.ts';
import { Resampler } from '../../../dsp/resample.ts';
import { SAMPLE_RATE_HZ } from '../../../dsp/frame.ts';
import type { TextToSpeech } from '../providers.ts';
import type { CircuitBreaker } from '../../resilience/policy.ts';
import { DEFAULT_STREAM_POLICY, resilientStream, type StreamPolicy } from '../resilience/resilientStream.ts';

const OPENAI_PCM_RATE_HZ = 24_000;

export interface OpenAiTtsOptions {
  apiKey: string;
  baseURL?: string;
  model: string;
  voice: string;
  instructions?: string;
  policy?: StreamPolicy;
  breaker?: CircuitBreaker;
}

/** Streaming 24 kHz s16le bytes → 8 kHz mu-law, with state across chunk boundaries. */
export class Pcm24kToMulaw {
  private readonly resampler = new Resampler(OPENAI_PCM_RATE_HZ, SAMPLE_RATE_HZ);
  private carry = -1;

  push(bytes: Uint8Array): Uint8Array {
    const start = this.carry >= 0 ? 1 : 0;
    const total = bytes.length + start;
    const count = total >> 1;
    const pcm = new Int16Array(count);
    let b = 0;
    for (let i = 0; i < count; i++) {
      const lo = i === 0 && start === 1 ? this.carry : (bytes[b++] as number);
      const hi = bytes[b++] as number;
      pcm[i] = ((hi << 8) | lo) << 16 >> 16;
    }
    this.carry = (total & 1) === 1 ? (bytes[bytes.length - 1] as number) : -1;
    return this.encode(this.resampler.process(pcm));
  }

  flush(): Uint8Array {
    this.carry = -1;
    return this.encode(this.resampler.flush());
  }

  private encode(pcm: Int16Array): Uint8Array {
    const out = new Uint8Array(pcm.length);
    encodeMulawInto(pcm, out);
    return out;
  }
}

export class OpenAiTts implements TextToSpeech {
  readonly name = 'openai-tts';
  readonly voice: string;
  private readonly client: Promise<OpenAiClient>;
  private readonly opts: OpenAiTtsOptions;

  constructor(opts: OpenAiTtsOptions) {
    this.opts = opts;
    this.voice = `${opts.voice}/${opts.model}`;
    this.client = openAiClient({ apiKey: opts.apiKey, baseURL: opts.baseURL ?? null, maxRetries: 0, timeout: 600_000 });
  }

  synthesize(text: string, o: { signal: AbortSignal }): AsyncIterable<Uint8Array> {
    const { client, opts } = this;
    return resilientStream(this.name, opts.policy ?? DEFAULT_STREAM_POLICY, opts.breaker, o.signal, async function* (signal) {
      const res = await (await client).audio.speech.create(
        { model: opts.model, voice: opts.voice, input: text, response_format: 'pcm', ...(opts.instructions ? { instructions: opts.instructions } : {}) },
        { signal },
      );
      if (!res.body) return;
      const conv = new Pcm24kToMulaw();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const out = conv.push(chunk);
        if (out.length > 0) yield out;
      }
      const tail = conv.flush();
      if (tail.length > 0) yield tail;
    });
  }
}
