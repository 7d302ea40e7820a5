// What an agent node can be tuned with (providers, turn-taking, reprompts, limits) and the defaults a
// node runs with when the deployment gives none.
import type { LanguageModel, SpeechToText, StreamingTextToSpeech, TextToSpeech } from './providers.ts';
import type { TtsCache } from './tts/cache.ts';
import type { BargeInOptions } from './turn/bargeIn.ts';
import type { EndpointingOptions } from './turn/endpointing.ts';

export interface AgentOptions {
  /**
   * The call's VAD reports speech.started after this much speech and speech.stopped after
   * `vadHangoverMs` of silence (dsp/vad.ts defaults: 60 and 240 ms). The agent dates speech from its
   * estimated true start and end, so barge-in and endpointing budgets are measured as the caller
   * experiences them.
   */
  vadOnsetMs?: number;
  vadHangoverMs?: number;
  stt: SpeechToText | undefined;
  llm: LanguageModel | undefined;
  tts: TextToSpeech;
  /** For static prompts (greeting, reprompt, apology, filler). */
  ttsCache?: TtsCache;
  /** Stream LLM tokens into this TTS (ElevenLabs stream-input) instead of sentence by sentence. */
  streamTts?: StreamingTextToSpeech;
  /** Token stream silent this long (wall) → the answer is voiced through `tts` instead. */
  streamFirstAudioTimeoutMs?: number;
  endpointing?: Partial<EndpointingOptions>;
  bargeIn?: Partial<BargeInOptions>;
  /** Default no-input reprompt delay when the node gives none. */
  noInputMs?: number;
  maxReprompts?: number;
  repromptText?: string;
  /** Said when a response is slow to start (never dead air). */
  fillerText?: string;
  fillerAfterMs?: number;
  apologyText?: string;
  maxConsecutiveFailures?: number;
  defaultMaxTurns?: number;
  defaultMaxDurationMs?: number;
  dtmfInterDigitMs?: number;
  maxToolHops?: number;
  /** First words fast: the first piece of an answer may end at a clause break this far in (0 = off). */
  firstClauseMinChars?: number;
  language?: string;
}

type Optional = 'stt' | 'llm' | 'ttsCache' | 'streamTts' | 'language';

/** The options with every default filled in (endpointing and barge-in are resolved by their own parts). */
export type ResolvedAgentOptions = Required<Omit<AgentOptions, Optional | 'endpointing' | 'bargeIn'>> & Pick<AgentOptions, Optional>;

export function resolveAgentOptions(opts: AgentOptions): ResolvedAgentOptions {
  return {
    vadOnsetMs: 60,
    vadHangoverMs: 240,
    noInputMs: 8000,
    maxReprompts: 2,
    repromptText: 'Are you still there?',
    fillerText: 'One moment, please.',
    fillerAfterMs: 2500,
    apologyText: "Sorry, I'm having trouble right now. Could you say that again?",
    maxConsecutiveFailures: 2,
    defaultMaxTurns: 30,
    defaultMaxDurationMs: 15 * 60_000,
    dtmfInterDigitMs: 1500,
    maxToolHops: 4,
    firstClauseMinChars: 40,
    streamFirstAudioTimeoutMs: 3000,
    ...opts,
  };
}
