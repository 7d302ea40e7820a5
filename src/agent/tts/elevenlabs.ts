// ElevenLabs text-to-speech over the HTTP stream endpoint, asking for `ulaw_8000` so the bytes go to
// the carrier untouched (DESIGN decision 4). The SDK's retries are off: resilientStream applies the
// shared policy (retry before the first byte only, timeouts, circuit breaker).
import type { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import type { TextToSpeech } from '../providers.ts';
import type { CircuitBreaker } from '../../resilience/policy.ts';
import { DEFAULT_STREAM_POLICY, resilientStream, type StreamPolicy } from '../resilience/resilientStream.ts';

export interface ElevenLabsTtsOptions {
  apiKey: string;
  baseUrl?: string;
  voiceId: string;
  /** eleven_flash_v2_5 is their lowest-latency model (~75 ms, per ElevenLabs' model docs). */
  modelId: string;
  /** 0–4; higher trades quality for latency (ElevenLabs API reference). */
  optimizeStreamingLatency?: number;
  policy?: StreamPolicy;
  breaker?: CircuitBreaker;
}

export class ElevenLabsTts implements TextToSpeech {
  readonly name = 'elevenlabs';
  readonly voice: string;
  /**
   * The SDK is imported on first use, not with this module: loading it costs ~150 MB of RSS (50 MB of
   * heap) in every process, including the many that have no ElevenLabs key.
   */
  private client: Promise<ElevenLabsClient> | undefined;
  private readonly opts: ElevenLabsTtsOptions;

  constructor(opts: ElevenLabsTtsOptions) {
    this.opts = opts;
    this.voice = `${opts.voiceId}/${opts.modelId}`;
  }

  private sdk(): Promise<ElevenLabsClient> {
    const opts = this.opts;
    this.client ??= import('@elevenlabs/elevenlabs-js').then(
      (m) => new m.ElevenLabsClient({ apiKey: opts.apiKey, ...(opts.baseUrl ? { baseUrl: opts.baseUrl } : {}), maxRetries: 0, timeoutInSeconds: 600 }),
    );
    return this.client;
  }

  synthesize(text: string, o: { signal: AbortSignal }): AsyncIterable<Uint8Array> {
    const { opts } = this;
    const sdk = (): Promise<ElevenLabsClient> => this.sdk();
    return resilientStream(this.name, opts.policy ?? DEFAULT_STREAM_POLICY, opts.breaker, o.signal, async function* (signal) {
      const client = await sdk();
      const stream = await client.textToSpeech.stream(
        opts.voiceId,
        {
          text,
          modelId: opts.modelId,
          outputFormat: 'ulaw_8000',
          ...(opts.optimizeStreamingLatency !== undefined ? { optimizeStreamingLatency: opts.optimizeStreamingLatency } : {}),
        },
        { abortSignal: signal, maxRetries: 0 },
      );
      for await (const chunk of stream) if (chunk.length > 0) yield chunk;
    });
  }
}
