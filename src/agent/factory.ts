// Chooses the provider adapters from plain configuration values (the config module reads the
// environment and passes them here). Every TTS gets its own circuit breaker and they are chained
// ElevenLabs → OpenAI → offline by default, so a missing key or an outage degrades the voice, never the
// call; with no keys at all the offline voice still speaks (no STT/LLM then: the agent node reports it).
import { CircuitBreaker, DEFAULT_BREAKER, type CircuitBreakerOptions } from '../resilience/policy.ts';
import { DEFAULT_STREAM_POLICY, type StreamPolicy } from './resilience/resilientStream.ts';
import { OpenAiLlm } from './llm/openai.ts';
import type { LanguageModel, SpeechToText, TextToSpeech } from './providers.ts';
import { OpenAiRealtimeStt } from './stt/openaiRealtime.ts';
import { TtsCache } from './tts/cache.ts';
import { ElevenLabsTts } from './tts/elevenlabs.ts';
import { ElevenLabsStreamInputTts } from './tts/elevenlabsStreamInput.ts';
import { FallbackTts } from './tts/fallback.ts';
import { OfflineTts } from './tts/offline.ts';
import { OpenAiTts } from './tts/openai.ts';

export type TtsProviderName = 'elevenlabs' | 'elevenlabs-ws' | 'openai' | 'offline';

export interface ProviderOptions {
  openaiApiKey?: string;
  /** e.g. https://api.openai.com/v1 (OPENAI_BASE_URL). */
  openaiBaseUrl?: string;
  /** Realtime transcription endpoint base if it differs from openaiBaseUrl (must be https). */
  openaiRealtimeBaseUrl?: string;
  /** Extra trusted CA (PEM) for the realtime websocket. */
  openaiRealtimeCa?: string | Buffer;
  openaiLlmModel?: string;
  openaiSttModel?: string;
  openaiTtsModel?: string;
  openaiTtsVoice?: string;
  elevenlabsApiKey?: string;
  elevenlabsBaseUrl?: string;
  elevenlabsVoiceId?: string;
  elevenlabsModelId?: string;
  offlineVoice?: string;
  /**
   * Stream LLM tokens into ElevenLabs' stream-input websocket (lower first-audio latency); the TTS
   * chain stays the fallback. Needs an ElevenLabs key.
   */
  elevenlabsTokenStreaming?: boolean;
  /** Order of the TTS fallback chain; providers without keys are left out. */
  ttsOrder?: TtsProviderName[];
  policy?: Partial<StreamPolicy>;
  breaker?: Partial<CircuitBreakerOptions>;
  ttsCacheMaxBytes?: number;
  /** Folder keeping synthesized prompts across restarts (the data folder's prompt-cache). */
  ttsCacheDir?: string;
}

export interface Providers {
  stt: SpeechToText | undefined;
  llm: LanguageModel | undefined;
  /** The fallback chain. */
  tts: FallbackTts;
  /** Cache over the chain for static prompts. */
  ttsCache: TtsCache;
  /** Token-streaming TTS, when configured. */
  streamTts: ElevenLabsStreamInputTts | undefined;
  breakers: Record<string, CircuitBreaker>;
  /** Lets go of engines loaded only to synthesize (the offline voice) when nothing is using them. */
  releaseIdleEngines(): Promise<void>;
  close(): Promise<void>;
}

/** ElevenLabs' default "Rachel" voice, used in their API examples, when no voice id is configured. */
const DEFAULT_ELEVENLABS_VOICE = '21m00Tcm4TlvDq8qVnm7';

export function createProviders(o: ProviderOptions): Providers {
  const policy: StreamPolicy = { ...DEFAULT_STREAM_POLICY, ...o.policy };
  const breakerOpts: CircuitBreakerOptions = { ...DEFAULT_BREAKER, ...o.breaker };
  const breakers: Record<string, CircuitBreaker> = {};
  const breaker = (name: string) => (breakers[name] ??= new CircuitBreaker(name, breakerOpts));

  const llm = o.openaiApiKey
    ? new OpenAiLlm({ apiKey: o.openaiApiKey, model: o.openaiLlmModel ?? 'gpt-4o-mini', policy, breaker: breaker('openai-llm'), ...(o.openaiBaseUrl ? { baseURL: o.openaiBaseUrl } : {}) })
    : undefined;
  const realtimeBase = o.openaiRealtimeBaseUrl ?? o.openaiBaseUrl;
  const stt = o.openaiApiKey
    ? new OpenAiRealtimeStt({
        apiKey: o.openaiApiKey,
        model: o.openaiSttModel ?? 'gpt-4o-transcribe',
        ...(realtimeBase ? { baseURL: realtimeBase } : {}),
        ...(o.openaiRealtimeCa ? { ca: o.openaiRealtimeCa } : {}),
      })
    : undefined;

  const offline = new OfflineTts({ ...(o.offlineVoice ? { voice: o.offlineVoice } : {}) });
  const chain: TextToSpeech[] = [];
  for (const name of o.ttsOrder ?? ['elevenlabs', 'openai', 'offline']) {
    if ((name === 'elevenlabs' || name === 'elevenlabs-ws') && o.elevenlabsApiKey) {
      const common = {
        apiKey: o.elevenlabsApiKey,
        voiceId: o.elevenlabsVoiceId ?? DEFAULT_ELEVENLABS_VOICE,
        modelId: o.elevenlabsModelId ?? 'eleven_flash_v2_5',
        policy,
        breaker: breaker(name),
        ...(o.elevenlabsBaseUrl ? { baseUrl: o.elevenlabsBaseUrl } : {}),
      };
      chain.push(name === 'elevenlabs' ? new ElevenLabsTts(common) : new ElevenLabsStreamInputTts(common));
    } else if (name === 'openai' && o.openaiApiKey) {
      chain.push(
        new OpenAiTts({
          apiKey: o.openaiApiKey,
          model: o.openaiTtsModel ?? 'gpt-4o-mini-tts',
          voice: o.openaiTtsVoice ?? 'alloy',
          policy,
          breaker: breaker('openai-tts'),
          ...(o.openaiBaseUrl ? { baseURL: o.openaiBaseUrl } : {}),
        }),
      );
    } else if (name === 'offline') chain.push(offline);
  }
  // The offline voice is always the last resort, even if the configured order left it out.
  if (!chain.includes(offline)) chain.push(offline);
  const tts = new FallbackTts(chain);
  const streamTts =
    o.elevenlabsTokenStreaming && o.elevenlabsApiKey
      ? new ElevenLabsStreamInputTts({
          apiKey: o.elevenlabsApiKey,
          voiceId: o.elevenlabsVoiceId ?? DEFAULT_ELEVENLABS_VOICE,
          modelId: o.elevenlabsModelId ?? 'eleven_flash_v2_5',
          policy,
          ...(o.elevenlabsBaseUrl ? { baseUrl: o.elevenlabsBaseUrl } : {}),
        })
      : undefined;
  const ttsCache = new TtsCache(tts, { ...(o.ttsCacheMaxBytes ? { maxBytes: o.ttsCacheMaxBytes } : {}), ...(o.ttsCacheDir ? { dir: o.ttsCacheDir } : {}) });
  return {
    stt,
    llm,
    tts,
    ttsCache,
    streamTts,
    breakers,
    releaseIdleEngines: () => offline.releaseIfIdle(),
    close: async () => {
      ttsCache.close();
      await offline.close();
    },
  };
}
